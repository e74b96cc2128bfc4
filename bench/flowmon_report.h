// flowmon_bench's figures: what its runs measured, printed as `name value unit` lines, ratios
// of netd-flowmon to softflowd from the same run, and a verdict line per part (no target: the
// comparison).
#pragma once

#include <array>
#include <optional>
#include <vector>

#include "bench/flow_probe.h"

namespace bench {

// One run of a probe (or of alice alone) at one rate.
struct FlowRun {
  double sent = 0;          // alice's datagrams
  double send_s = 0;        // her sending time
  double sender_cpu_s = 0;  // her process's CPU (her syscalls, and the taps on her sending path)
  double markers = 0;       // datagrams that pushed softflowd's last ring block out
  double probe_cpu_s = 0;   // the probe's CPU from her first packet until it was done with her last
  double processed = 0;     // packets the probe accounted for (softflowd: its own count;
                            // netd-flowmon: the UDP packets in its records), markers included
  double counted = 0;       // alice's packets in the exported records
  double overruns = 0;      // netd-flowmon: flow log overruns (ENOBUFS); softflowd: ring drops
  double wall_s = 0;        // the whole run, probe start and stop included
};

// runs[p][round] of probes[p] at pps over `flows` flows.
void report_cpu(const std::vector<ProbeKind>& probes, const std::vector<std::vector<FlowRun>>& runs, int pps,
                int flows);
// runs[p][step] of probes[p] at steps[step] pps (0: as fast as alice goes), and alice alone as fast
// as she goes (none): also each probe's cost on the sending path per million packets, alice's CPU
// per packet at full speed with it against without.
void report_overrun(const std::vector<ProbeKind>& probes, const std::vector<std::vector<FlowRun>>& runs,
                    const std::array<int, 5>& steps, const std::optional<FlowRun>& none);

}  // namespace bench
