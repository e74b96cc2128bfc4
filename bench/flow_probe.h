// The flow probes flowmon_bench compares, each started as the testbed's monitor slice "mon"
// (uid 1004, capture_all) and exporting to a FlowSink on the host netns' loopback:
//   netd-flowmon  `netd-flowmon --ipfix 127.0.0.1:PORT`: netd's flow log (an NFLOG socket netd
//                 binds to the monitor's group; netd's rules log every uplink packet, 128 bytes
//                 of it, in batches of 16) read and turned into IPFIX records
//   softflowd     `sliceip exec -- softflowd -d -i uplink0 -n 127.0.0.1:PORT -v 5 ...`: libpcap
//                 on netd's capture socket on uplink0 (or, with as_root, root's own socket),
//                 NetFlow v5 records
// A probe's CPU is the on-CPU time of all its processes' threads (/proc/PID/task/*/schedstat:
// ns, not ticks), sliceip's included for softflowd.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_support.h"
#include "bench/flow_sink.h"
#include "lib/core/unique_fd.h"
#include "tests/integration/common/testbed.h"

namespace bench {

enum class ProbeKind { kFlowmon, kSoftflowd };

// "netd-flowmon" / "softflowd", and the figure names' "netd_flowmon" / "softflowd".
const char* probe_name(ProbeKind kind);
const char* probe_id(ProbeKind kind);

inline constexpr uid_t kMonitor = 1004;  // the monitor slice's member
// The testbed's extra slice: a monitor that sees every slice's packets on the uplinks.
inline constexpr const char* kMonitorSlice =
    "\n[[slice]]\nname = \"mon\"\nid = 9\nuids = [1004]\ncapture_all = true\nraw = [\"packet\"]\n";

struct ProbePlace {
  const netd::testing::Testbed& bed;
  const Launcher& launcher;
  std::string dir;  // where softflowd's control socket and the probes' stderr go (mon may write there)
  bool softflowd_as_root = false;
};

// softflowctl's statistics.
struct SoftflowdStats {
  uint64_t processed = 0;      // "Packets processed"
  uint64_t ring_received = 0;  // "Packets received by libpcap" (the kernel's count for the ring)
  uint64_t ring_dropped = 0;   // "Packets dropped by libpcap" (the ring was full)
  bool ok = false;
};

// What a probe said or counted when it stopped.
struct ProbeEnd {
  int code = -1;
  uint64_t exported_records = 0;  // netd-flowmon's summary
  uint64_t overruns = 0;          // netd-flowmon's "flow log overruns" (ENOBUFS on its socket)
  std::string summary;            // netd-flowmon's last stderr line, for a note
};

class Probe {
 public:
  // Starts `kind` exporting to `sink` and returns once it captures (netd-flowmon: its
  // "exporting flow records to" line; softflowd: its control socket exists, made after the
  // capture is set up); nullopt after a note saying why not.
  static std::optional<Probe> start(ProbeKind kind, const ProbePlace& place, const FlowSink& sink);
  Probe(Probe&& other) noexcept;
  Probe& operator=(Probe&&) = delete;
  ~Probe();  // SIGTERM and reaped if still running

  ProbeKind kind() const { return kind_; }
  // On-CPU time of every thread of its processes so far, ns.
  uint64_t cpu_ns() const;
  // Waits until it has used less than 2 % of a CPU over 50 ms (done with what it was given);
  // at most max_ms. False if it never went quiet or the run was interrupted.
  bool wait_quiet(int max_ms) const;
  // softflowd: whether it holds a UDP flow to `port` (softflowctl dump-flows).
  bool has_udp_flow_to(uint16_t port) const;
  SoftflowdStats softflowd_stats() const;
  // netd-flowmon: SIGTERM (it reads what is queued and sends every open flow); softflowd:
  // `softflowctl shutdown` (it expires and sends every flow, then exits, and sliceip with it).
  // Then reaped.
  ProbeEnd stop();

 private:
  Probe(ProbeKind kind, const ProbePlace& place) : kind_(kind), place_(&place) {}
  std::vector<pid_t> pids() const;  // its processes: sliceip and softflowd, or netd-flowmon
  std::optional<std::string> softflowctl(const std::string& command) const;  // its stdout, or nullopt

  ProbeKind kind_;
  const ProbePlace* place_;
  pid_t pid_ = -1;
  netd::UniqueFd out_;    // netd-flowmon's stdout, kept open so a late line cannot meet a closed pipe
  std::string control_;   // softflowd's control socket
  std::string err_path_;  // its stderr
};

}  // namespace bench
