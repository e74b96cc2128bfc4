// One interval's report as text (a table per report) or as one JSON line. Pure.
#pragma once

#include <cstdint>
#include <string>

#include "tools/flowmon/tally.h"

namespace flowmon {

struct ReportInfo {
  uint64_t number = 0;    // 1, 2, ...
  double time = 0;        // wall clock at its end, seconds since the epoch
  double seconds = 0;     // how long it covered
  uint64_t overruns = 0;  // receive-buffer overruns during it (ENOBUFS: the kernel dropped messages)
  uint64_t lost = 0;      // the packets they cost (from the flow log's sequence numbers)
};

// "--- report 3 at 15:03:05 (1.00 s)" then a "slice pkts-in bytes-in pkts-out bytes-out" table
// and, with flows, one line per flow. Slice 0 is traffic of no slice.
std::string report_text(const Report& report, const ReportInfo& info, bool flows);

// {"report":3,"time":..,"seconds":1.0,"slices":[{"slice":7,"in":{"packets":3,"bytes":252},
// "out":{...}}], "flows":[{"slice":7,"proto":"icmp","local":"10.0.1.1","local_port":17,
// "remote":"10.0.1.2","remote_port":0,"in":{...},"out":{...}}]} and a newline; "flows" only
// with flows, "overruns" and "lost" only when not 0.
std::string report_json(const Report& report, const ReportInfo& info, bool flows);

}  // namespace flowmon
