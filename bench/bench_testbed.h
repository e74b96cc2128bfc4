// What the benchmarks that drive a live netd share: the integration tests' testbed with netd started
// for benchmarking, netd's own timings from its audit log, the set-up of a forked client child,
// a Launcher placed in the testbed, iperf3's readiness and report, and the command-line count
// parser.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/bench_support.h"
#include "lib/core/result.h"
#include "tests/integration/common/testbed.h"

namespace bench {

// The testbed (netns pair, cgroup, bpffs dir) with netd running on it, its per-uid request
// cap lifted (the loops outrun the default 20000/s; no code path changes). nullopt after
// printing why, prefixed with `who`.
std::optional<netd::testing::Testbed> start_testbed(const std::string& who);
// The options the above uses (for a benchmark that adds to them, e.g. netd_args).
netd::testing::TestbedOptions default_testbed_options();
// As above with the caller's options (a benchmark that needs more lifted, or a slice changed);
// netd is started only once the Testbed sits in its final place (bench_testbed.cc says why).
std::optional<netd::testing::Testbed> start_testbed(const std::string& who, netd::testing::TestbedOptions options);
// The two halves of the above, for a benchmark that edits the policy before netd starts (keys
// TestbedOptions cannot change) or times the start: the testbed without netd, then netd on it
// (false after printing why).
std::optional<netd::testing::Testbed> make_testbed(const std::string& who, netd::testing::TestbedOptions options);
bool start_netd(netd::testing::Testbed& bed, const std::string& who);
// `# <who>: testbed up: host netns ..., peer netns ..., cgroup ..., bpffs ..., dir ..., netd pid
// N (binary)`: what the run made, by name (tests/integration/bench waits for this line, then
// checks all of it is gone after a SIGTERM). start_testbed prints it; a benchmark that starts
// netd itself prints it after start_netd.
void announce(const std::string& who, const netd::testing::Testbed& bed);

// A network namespace of the benchmark's own (netd-t<pid>-<n>, as the testbed's), held
// (leftovers.h: hold_netns) until the run ends.
netd::Result<netd::testing::Netns> make_netns();

// A Launcher whose commands run in the testbed's host netns and cgroup, with PATH, LANG=C and
// NETD_SOCKET set to the testbed's socket.
netd::Result<Launcher> testbed_launcher(const netd::testing::Testbed& bed);

// netd's own time per request: the `us=` of its audit lines (request read → reply queued) for
// `method`, from the lines after the first `skip` of its log. Shows what of a figure is netd.
std::vector<double> audit_micros(const netd::testing::Testbed& bed, size_t skip, std::string_view method);
// How many lines netd has logged so far (the `skip` of a later audit_micros).
size_t log_lines(const netd::testing::Testbed& bed);

// Puts a forked (not exec'd) client child in place: default SIGINT/SIGTERM, killed with its
// parent, in the cgroup whose cgroup.procs is `cgroup_procs`, in the netns at `netns_path`, and
// for a uid: that uid with no groups and no capabilities (setgroups(0)/setresgid/setresuid).
// What failed, for the child to print before it exits.
netd::Status enter_child_place(const std::string& netns_path, const std::string& cgroup_procs,
                               std::optional<uid_t> uid);

// Whether something listens on TCP `port` in `ns` (an `iperf3 -s` started there), polled for
// up to 5 s; false at once on interruption.
bool wait_listening(const netd::testing::Netns& ns, int port = 5201);

// What one `iperf3 -c ... -J` run reports: the receiver side (end.sum_received) and the CPU
// that client and server used (iperf3's own rusage figures).
struct IperfReport {
  double bits_per_second = 0;
  double bytes = 0;
  double seconds = 0;
  double cpu_seconds = 0;  // client + server
};
// iperf3's JSON, or why there is no throughput in it (also when the receiver got nothing).
netd::Result<IperfReport> parse_iperf3(const std::string& json);

// argv[i] is an option taking a count: reads argv[i + 1] (1..10^7) into *out, advancing i.
bool take_count(int argc, char** argv, int& i, int* out);

// A benchmark's command line: `--NAME N` counts (as take_count, and at most `max`) and `--NAME`
// switches (each sets its bool to `to`, e.g. --no-cli clears `cli`). False on anything else.
struct CountFlag {
  std::string_view name;
  int* value;
  int max = 10000000;
};
struct SwitchFlag {
  std::string_view name;
  bool* value;
  bool to = false;
};
bool parse_flags(int argc, char** argv, std::initializer_list<CountFlag> counts,
                 std::initializer_list<SwitchFlag> switches);

}  // namespace bench
