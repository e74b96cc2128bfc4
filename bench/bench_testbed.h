// What the benchmarks that drive a live netd share: the integration tests' testbed with netd started
// for benchmarking, netd's own timings from its audit log, the set-up of a forked client child,
// a Launcher placed in the testbed, iperf3's readiness and report, and the command-line count
// parser.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/bench_support.h"
#include "bench/budget.h"
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
// parent, in the cgroup whose cgroup.procs is `cgroup_procs` (empty: it stays in the
// benchmark's), in the netns at `netns_path`, and for a uid: that uid with no groups and no
// capabilities (setgroups(0)/setresgid/setresuid). What failed, for the child to print before
// it exits.
netd::Status enter_child_place(const std::string& netns_path, const std::string& cgroup_procs,
                               std::optional<uid_t> uid);

// Where a forked client runs (enter_child_place), and the SO_MARK its sockets get (0: none).
// A mark needs root (uid nullopt): a baseline's stand-in for what netd's tagging gives a
// slice's sockets.
struct ClientPlace {
  std::string netns_path;
  std::string cgroup_procs;  // "": the benchmark's own cgroup
  std::optional<uid_t> uid;  // nullopt: root
  uint32_t mark = 0;
  int cpu = -1;  // the one CPU it may run on (-1: any)
};

// `ip`/`nft`/`tc` run by a benchmark as root (run_in): ok, or what failed with its output.
netd::Status must(const netd::testing::ProcessResult& r, const std::string& what);
// CPU time (ns) every thread of pid has run so far (schedstat: ns resolution, unlike the 10 ms
// ticks of /proc/PID/stat); 0 if unreadable.
uint64_t cpu_ns_of(pid_t pid);

// Whether something listens on TCP `port` in `ns` (an `iperf3 -s` started there), polled for
// up to 5 s; false at once on interruption.
bool wait_listening(const netd::testing::Netns& ns, int port = 5201);

// What one `iperf3 -c ... -J` run reports: the receiver side (end.sum_received) and the CPU
// that client and server used (iperf3's own rusage figures).
struct IperfReport {
  double bits_per_second = 0;
  double bytes = 0;
  double seconds = 0;
  double cpu_seconds = 0;          // client + server
  std::string sender_congestion;   // the sending socket's congestion control (end.sender_tcp_congestion)
};
// iperf3's JSON, or why there is no throughput in it (also when the receiver got nothing).
netd::Result<IperfReport> parse_iperf3(const std::string& json);

// SIGHUP to bed's netd with `policy` written in place; ms until netd logs that it reloaded
// (polled every ms), or nullopt after a note `reload <label>: ...` if it logged an error
// instead, or nothing within 60 s.
std::optional<double> timed_reload(netd::testing::Testbed& bed, const std::string& policy, const std::string& label);
// The same after the caller changed the files itself (a drop-in added or removed).
std::optional<double> timed_sighup(netd::testing::Testbed& bed, const std::string& label);
// A process's VmRSS in MiB (0 if unreadable).
double rss_mib(pid_t pid);

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

// ---------------------------------------------------------------------------------------------
// What the shaping benchmarks (shape_bench: uploads, shape_in_bench: downloads) share.

inline constexpr const char* kIperf3 = "/usr/bin/iperf3";
inline constexpr const char* kPeerIp = "10.0.1.2";  // peer0, behind uplink0: the shaped uplink
// TCP payload per byte HTB counts at MTU 1500 with timestamps: 1448 of a 1514-byte frame.
inline constexpr double kGoodputPerRate = 1448.0 / 1514.0;
inline constexpr uint32_t kExtraUidBase = 200000;  // generated slices' members: uid 200000 + id, no one's

// `count` slices with ids first_id..., each with one uid of its own (kExtraUidBase + id) and the
// TOML lines `keys` (e.g. `rate = "1mbit"\n`), as [[slice]] tables. Appended to bob's table
// (the last of the testbed's policy).
std::string extra_slices(uint32_t first_id, int count, const std::string& keys);
// The testbed's policy for `options` with marks wide enough for slice ids up to 8191
// (mark_mask 0x1fff0000, raw_flag 0x20000000), or why not.
netd::Result<std::string> shaping_policy(const netd::testing::Testbed& bed,
                                         const netd::testing::TestbedOptions& options);
// The testbed with that policy, then netd started on it; *start_ms is how long netd took from
// its start to answering on its socket (it applies the policy, shaping included, before it
// listens). nullopt after printing why.
// `drop_ins` (file name -> text) go into policy.d beside the policy before netd starts.
std::optional<netd::testing::Testbed> start_shaping_testbed(const std::string& who,
                                                            const netd::testing::TestbedOptions& options,
                                                            double* start_ms,
                                                            const std::map<std::string, std::string>& drop_ins = {});
// policy.d/<name> beside the testbed's policy file: written, or removed for an empty text.
netd::Status write_drop_in(const netd::testing::Testbed& bed, const std::string& name, const std::string& text);
// The native path of a comparison: a veth pair between two namespaces of the benchmark's own
// (make_netns) with the testbed's uplink0 addresses (uplink0 10.0.1.1/24 in `host`, peer0
// 10.0.1.2/24 in `peer`), the veth's noqueue, no netd.
struct NativePair {
  netd::testing::Netns host, peer;
};
netd::Result<NativePair> make_native_pair();
// iperf3 -s on kPeerIp in `ns` (a testbed's peer netns, or any netns with that address), as
// root, outside the cgroup; nullopt after a note.
std::optional<RunningChild> start_sink(const Launcher& launcher, const netd::testing::Netns& ns,
                                       const std::string& label);
// `iperf3 -c kPeerIp -J` as uid (in the Launcher's netns and cgroup unless told otherwise).
Command iperf_client(const std::string& label, uid_t uid, int netns_fd = -1, bool join_cgroup = true);
// One run of that client, `seconds` long (omit: plus 1 s left out, slow start and the first
// burst): the report, or why there is none.
netd::Result<IperfReport> iperf_run(const Launcher& launcher, Command client, int seconds, bool omit);
// One variant of a throughput comparison: its iperf3 client (-R in argv for a download), run
// by its own Launcher, and what its runs gave.
struct IperfVariant {
  std::string name;
  const Launcher* launcher;
  Command client;
  std::vector<double> bps;
  std::vector<double> cpu_per_gbyte;  // CPU seconds (iperf3 client + server, + cpu_pid's) per GB received
  bool usable = true;
  // A process on the path whose CPU counts too (a user-space forwarder: the kernel's work on
  // the packets it writes runs in its context); -1: none.
  pid_t cpu_pid = -1;
};
// A short untimed run of each: proves its path carries TCP; one that fails is noted (prefixed
// with `part`) and left out from then on.
void probe_variants(const std::string& part, std::vector<IperfVariant>& variants);
// The fewest runs any usable variant has.
size_t fewest_runs(const std::vector<IperfVariant>& variants);
// Rounds of one `seconds` run (-O 1) per usable variant, the order rotating, while the phase
// wants more; a failed run is noted. For each round in which both variants of `pair` ran, the
// ratio second / first goes to *pair_ratios (neighbours in time: what others do to the machine
// hits both alike). False if interrupted.
bool run_iperf_rounds(const std::string& part, Phase& phase, std::vector<IperfVariant>& variants, int seconds,
                      std::pair<size_t, size_t> pair, std::vector<double>* pair_ratios);
// The same with several pairs, (*pair_ratios)[i] for pairs[i]; `omit` as iperf_run's.
bool run_iperf_rounds(const std::string& part, Phase& phase, std::vector<IperfVariant>& variants, int seconds,
                      bool omit, const std::vector<std::pair<size_t, size_t>>& pairs,
                      std::vector<std::vector<double>>* pair_ratios);
// "<name>: Gbit/s ...; CPU s per GB <name>: ..." of every run, for the part's note.
std::string iperf_runs_text(const std::vector<IperfVariant>& variants);
// " 1.23 4.56 ..." (each value / scale), for a note listing every run.
std::string series_text(const std::vector<double>& v, double scale);
// Bytes an HTB class of `dev` in the testbed's host netns has sent (tc -s), 0 if it is not there.
double class_bytes(const netd::testing::Testbed& bed, const std::string& dev, const std::string& classid);
// The figures and verdict of one accuracy series (goodput runs, bit/s) against rate × 1448/1514:
// <name>.median/.min/.max (Mbit/s), .samples, .spread (%), .baseline, .ratio, .error (%), and
// "verdict <target> median within ±3 % of rate × 1448/1514".
void print_accuracy(const std::string& name, const std::string& target, const std::vector<double>& runs,
                    double rate_bps);

}  // namespace bench
