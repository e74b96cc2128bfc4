// What one load client reports on its stdout once its requests are done, and how the test and
// the benchmark read it back and add the clients up.
//
//   span START_NS END_NS          CLOCK_MONOTONIC of the first request and of the last reply
//                                 (of the mix: the requests restoring the slice are not counted)
//   wrong N                       replies that were not what the client expected
//   example TEXT                  the first few of them (one line each)
//   op LABEL N NS NS ...          every request's latency (request sent → reply read), by label
//   end
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lib/core/result.h"

namespace netd::testing {

struct LoadReport {
  std::map<std::string, std::vector<uint64_t>> nanos;  // by operation label
  uint64_t wrong = 0;
  std::vector<std::string> examples;
  uint64_t start_ns = 0, end_ns = 0;

  uint64_t requests() const;
};

// A client keeps this many examples of wrong replies.
inline constexpr size_t kLoadExamples = 5;

std::string format_report(const LoadReport& report);
// The report in `text` (lines before "span" are skipped); an error if it is cut short.
Result<LoadReport> parse_report(std::string_view text);
// Adds `from` to `into`: samples and examples appended, counts added, the span widened.
void merge_report(LoadReport& into, LoadReport from);

}  // namespace netd::testing
