#include "tools/sliceip/exec/refusal_log.h"

#include <cstdio>

namespace sliceip::exec {

namespace {
constexpr const char* kPrefix = "sliceip: exec: ";
}

std::string RefusalLog::note(const std::string& call, const std::string& reason) {
  size_t& count = counts_[{call, reason}];
  if (count++ > 0) return "";
  return kPrefix + call + ": refused: " + reason;
}

void RefusalLog::report(const std::string& call, const std::string& reason) {
  std::string line = note(call, reason);
  if (!line.empty()) std::fprintf(stderr, "%s\n", line.c_str());
}

std::vector<std::string> RefusalLog::summary() const {
  std::vector<std::string> lines;
  for (const auto& [key, count] : counts_)
    if (count > 1)
      lines.push_back(kPrefix + key.first + ": refused " + std::to_string(count) + " times (" + key.second + ")");
  return lines;
}

}  // namespace sliceip::exec
