// What the sliceip exec tests share: reading a program's output line by line, and real traffic
// told apart by source port.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "tests/fixtures/process.h"

namespace netd::testing {

// One whole TCP connection from 10.0.1.1:<argv[1]> to the peer's server on 10.0.1.2:8080 (it
// answers with the address it saw and closes): packets in both directions.
inline constexpr const char* kClientFromPort = R"PY(
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.0.1.1", int(sys.argv[1])))
s.settimeout(10)
s.connect(("10.0.1.2", 8080))
print(s.recv(100).decode())
)PY";

// The non-empty lines of text.
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// Reads the child's lines into `seen` until one contains `needle`: false on EOF or when no line
// came for `quiet` (the child is stuck).
inline bool read_through(ChildProcess& child, std::string& seen, const std::string& needle,
                         std::chrono::seconds quiet = std::chrono::seconds(20)) {
  for (;;) {
    auto line = child.read_line(quiet);
    if (!line) return false;
    seen += *line + "\n";
    if (line->find(needle) != std::string::npos) return true;
  }
}

// The words that run `sliceip exec -- ARGV...` with its stderr and the program's merged into
// stdout (for Testbed::spawn_as), so one read_through sees sliceip's lines and the program's.
inline std::vector<std::string> exec_merged(const std::string& sliceip, const std::vector<std::string>& argv) {
  std::vector<std::string> words = {"sh", "-c", "exec \"$0\" exec -- \"$@\" 2>&1", sliceip};
  words.insert(words.end(), argv.begin(), argv.end());
  return words;
}

}  // namespace netd::testing
