// The stderr lines for refused calls: one per (call, reason), so a program calling socket() in a
// loop cannot flood the terminal; how often each was refused is summed up at exit.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace sliceip::exec {

class RefusalLog {
 public:
  // The line to print now ("sliceip: exec: socket(AF_PACKET, SOCK_RAW): refused: <reason>"),
  // or "" when this call was refused for this reason before.
  std::string note(const std::string& call, const std::string& reason);
  // note(), printed on stderr when not empty.
  void report(const std::string& call, const std::string& reason);
  // For each (call, reason) refused more than once: "sliceip: exec: <call>: refused N times".
  std::vector<std::string> summary() const;

 private:
  std::map<std::pair<std::string, std::string>, size_t> counts_;
};

}  // namespace sliceip::exec
