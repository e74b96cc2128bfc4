// flowmon_bench: what netd-flowmon (netd's flow log, IPFIX export) costs and how fast it keeps
// up, against softflowd capturing the same uplink through a capture socket, in the same run
// (issue 17, "Benchmark"). Both run as the monitor slice and export to a sink of ours on the
// host netns' loopback (bench/flow_probe.h, bench/flow_sink.h); alice sends 64-byte UDP
// datagrams to the peer over uplink0, one datagram to each of --flows destination ports in turn
// (the peer drops them).
//
//  cpu      the probe's CPU per million uplink packets while alice sends at a steady --cpu-pps
//           both keep up with: rounds of one run per probe, the order rotating; a run starts the
//           probe, sends for its block, waits until the probe has dealt with every packet
//           (softflowd: a marker stream pushes libpcap's last ring block out), reads the probe's
//           CPU (every thread's schedstat), stops it and counts its records.
//  overrun  rates stepped up (25k, 50k, 100k, 200k pps, then as fast as alice goes), one run per
//           probe per step, the order alternating: the packets in the exported records against
//           the packets sent; the lowest rate at which each probe loses packets. At full speed
//           alice also runs with no probe: her CPU per packet with a probe against without is
//           what the probe's tap costs on the sending path (NFLOG's copy into a netlink message,
//           AF_PACKET's copy into the ring), which is not in the probe's own CPU.
//
// It prints `name value unit` lines, ratios and `verdict` lines (no target: the comparison);
// it never fails on a figure.
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_support.h"
#include "bench/bench_testbed.h"
#include "bench/budget.h"
#include "bench/flow_probe.h"
#include "bench/flow_sink.h"
#include "bench/flowmon_report.h"
#include "bench/udp_sender.h"
#include "tests/integration/common/testbed.h"

namespace {

using bench::fixed;
using bench::FlowRun;
using bench::print_note;
using bench::Probe;
using bench::ProbeKind;
using Clock = std::chrono::steady_clock;

struct Args {
  int seconds = 90;     // the whole run, set-up included (bench/run-all gives it 60)
  int cpu_pps = 50000;  // the cpu part's steady rate
  int flows = 64;       // distinct destination ports of alice's stream
  int rounds = 4;       // cpu: rounds of one run per probe its share is split into
  bool cpu = true;
  bool overrun = true;
  bool softflowd_as_root = false;
  bool cleanup = false;
};

constexpr double kCpuWeight = 1, kOverrunWeight = 1;
constexpr double kReserveS = 4;            // netd's and the testbed's tear-down
constexpr size_t kCpuMinRounds = 2;        // runs per probe, however long they take
constexpr double kMinSendS = 0.5;          // alice sends at least this long per run
constexpr const char* kPeer = "10.0.1.2";  // peer0, across uplink0
constexpr uint16_t kFirstPort = 9100;      // alice's flows: kFirstPort .. kFirstPort + flows - 1
constexpr uint16_t kMarkerPort = 9300;     // softflowd's markers
constexpr int kMarkerPps = 20000;          // fills a 256 KiB ring block in well under 0.1 s
constexpr int kMarkerWaitMs = 10000;
constexpr int kQuietMaxMs = 5000;                                     // a probe's backlog after the sender stops
constexpr uint16_t kIpfixPort = 4739, kNetflowPort = 2055;            // the sinks
const std::array<int, 5> kSteps = {25000, 50000, 100000, 200000, 0};  // 0: as fast as it goes

// What a forked sender counts, in memory shared with it.
struct SenderShm {
  std::atomic<uint64_t> sent{0}, cpu_ns{0}, wall_ns{0};
  std::atomic<int> stop{0};
};
struct Senders {
  SenderShm alice, marker;
};

uint64_t clock_ns(clockid_t id) {
  timespec t{};
  clock_gettime(id, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1000000000ull + static_cast<uint64_t>(t.tv_nsec);
}

struct Context {
  const netd::testing::Testbed& bed;
  const bench::ProbePlace& place;
  bench::FlowSink& ipfix_sink;
  bench::FlowSink& netflow_sink;
  Senders* senders;
  int flows;
  std::string part;                  // the part running, for its notes
  std::vector<std::string> started;  // "<part> <probe>": the first start of each is noted
};

// A forked sender as alice (testbed host netns and cgroup); it times its own CPU and wall clock.
pid_t fork_sender(const Context& cx, const bench::UdpStream& stream, SenderShm* shm) {
  shm->sent.store(0), shm->cpu_ns.store(0), shm->wall_ns.store(0), shm->stop.store(0);
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid != 0) return pid;
  auto s = bench::enter_child_place(cx.bed.host().path(), cx.bed.cgroup() + "/cgroup.procs", netd::testing::kAlice);
  uint64_t cpu0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID), wall0 = clock_ns(CLOCK_MONOTONIC);
  if (s.ok()) s = bench::send_udp(stream, &shm->sent, &shm->stop);
  shm->cpu_ns.store(clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0);
  shm->wall_ns.store(clock_ns(CLOCK_MONOTONIC) - wall0);
  if (!s.ok()) std::fprintf(stderr, "# flowmon_bench: sender: %s\n", s.error().message.c_str());
  _exit(s.ok() ? 0 : 1);
}

bool pause_s(double seconds) {
  return bench::wait_readable(bench::interrupt_fd(), static_cast<int>(seconds * 1000)) == bench::Wait::kTimeout;
}

// softflowd hands libpcap's ring over a whole 256 KiB block at a time (it opens its capture with
// no timeout): alice's last packets wait in a block that is not full. A marker stream of hers
// fills it; once softflowd holds the marker flow, every block before it was read (in order).
bool push_markers(const Context& cx, const Probe& probe, FlowRun& run) {
  pid_t pid = fork_sender(cx, {kPeer, kMarkerPort, kMarkerPps, 0, 1}, &cx.senders->marker);
  auto t0 = Clock::now();
  bool seen = false;
  while (!(seen = probe.has_udp_flow_to(kMarkerPort)) && !bench::interrupted() &&
         Clock::now() - t0 < std::chrono::milliseconds(kMarkerWaitMs))
    pause_s(0.01);
  cx.senders->marker.stop.store(1);
  bench::wait_child(pid);
  run.markers = static_cast<double>(cx.senders->marker.sent.load());
  if (!seen && !bench::interrupted()) print_note("softflowd: no marker reached it in 10 s");
  return seen;
}

// One run: the probe (none: alice alone) started, alice sending at pps (0: as fast as she goes)
// for send_s, the probe's CPU over her packets, then its records counted. nullopt after a note.
std::optional<FlowRun> run_once(Context& cx, std::optional<ProbeKind> kind, int pps, double send_s) {
  FlowRun run;
  auto t0 = Clock::now();
  bench::FlowSink* sink = kind == ProbeKind::kSoftflowd ? &cx.netflow_sink : &cx.ipfix_sink;
  sink->discard();
  std::optional<Probe> probe = kind ? Probe::start(*kind, cx.place, *sink) : std::nullopt;
  if (kind && !probe) return std::nullopt;
  if (kind && std::find(cx.started.begin(), cx.started.end(), cx.part + " " + probe_name(*kind)) == cx.started.end()) {
    cx.started.push_back(cx.part + " " + probe_name(*kind));
    print_note(cx.part + ": " + probe_name(*kind) + " capturing, " +
               fixed(std::chrono::duration<double>(Clock::now() - t0).count(), 2) + " s after its start");
  }
  uint64_t cpu0 = probe ? probe->cpu_ns() : 0;
  SenderShm& alice = cx.senders->alice;
  pid_t pid = fork_sender(cx, {kPeer, kFirstPort, pps, 0, cx.flows}, &alice);
  bool whole = pause_s(send_s);
  alice.stop.store(1);
  int code = bench::wait_child(pid);
  if (!whole) return std::nullopt;  // interrupted
  if (code != 0) {
    print_note("alice's sender exited " + std::to_string(code) + " (its reason is on stderr)");
    return std::nullopt;
  }
  run.sent = static_cast<double>(alice.sent.load());
  run.send_s = static_cast<double>(alice.wall_ns.load()) / 1e9;
  run.sender_cpu_s = static_cast<double>(alice.cpu_ns.load()) / 1e9;
  if (probe) {
    if (*kind == ProbeKind::kSoftflowd && !push_markers(cx, *probe, run)) return std::nullopt;
    if (!probe->wait_quiet(kQuietMaxMs) && !bench::interrupted())
      print_note(std::string(probe_name(*kind)) + ": still busy " + std::to_string(kQuietMaxMs) +
                 " ms after the last packet");
    run.probe_cpu_s = static_cast<double>(probe->cpu_ns() - cpu0) / 1e9;
    if (*kind == ProbeKind::kSoftflowd) {
      bench::SoftflowdStats st = probe->softflowd_stats();
      run.processed = static_cast<double>(st.processed);
      run.overruns = static_cast<double>(st.ring_dropped);
    }
    bench::ProbeEnd end = probe->stop();
    if (bench::interrupted()) return std::nullopt;
    // softflowd ends a shutdown asked for on its control socket with status 1, its flows sent.
    bool clean = end.code == 0 || (*kind == ProbeKind::kSoftflowd && end.code == 1);
    if (!clean) {
      print_note(std::string(probe_name(*kind)) + " exited " + std::to_string(end.code) + ": " + end.summary);
      return std::nullopt;
    }
    bench::FlowTotals totals = sink->collect(200, 5000);
    run.counted = static_cast<double>(totals.packets_to(kFirstPort, cx.flows));
    if (*kind == ProbeKind::kFlowmon) {
      run.overruns = static_cast<double>(end.overruns);
      for (const auto& [port, packets] : totals.udp_packets) run.processed += static_cast<double>(packets);
      if (totals.records < end.exported_records)
        print_note("netd-flowmon: the sink decoded " + std::to_string(totals.records) + " of the " +
                   std::to_string(end.exported_records) + " records it sent");
    }
    if (totals.malformed > 0) print_note(std::string(probe_name(*kind)) + ": malformed export datagrams");
  }
  run.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  return run;
}

// ---------------------------------------------------------------------------------------------

void run_cpu(Context& cx, const Args& args, bench::Budget& budget, const std::vector<ProbeKind>& probes) {
  print_note("cpu: alice at " + std::to_string(args.cpu_pps) + " pps over " + std::to_string(args.flows) +
             " flows; load average " + bench::loadavg());
  cx.part = "cpu";
  bench::Phase phase("cpu", budget.share("cpu"), kCpuMinRounds);
  std::vector<std::vector<FlowRun>> runs(probes.size());
  std::vector<double> overhead(probes.size(), 0.8);  // a run's wall time beyond its sending: measured
  bool ok = true;
  auto fewest = [&] {
    size_t n = SIZE_MAX;
    for (const auto& r : runs) n = std::min(n, r.size());
    return n;
  };
  bench::run_interleaved(Clock::now(), phase.seconds() - phase.elapsed(), args.rounds, static_cast<int>(probes.size()),
                         kCpuMinRounds, fewest, [&](int p, Clock::time_point until) {
                           double left = std::chrono::duration<double>(until - Clock::now()).count();
                           auto run = run_once(cx, probes[p], args.cpu_pps, std::max(kMinSendS, left - overhead[p]));
                           if (!run) return ok = false;
                           overhead[p] = run->wall_s - run->send_s;
                           runs[p].push_back(*run);
                           return true;
                         });
  if (bench::interrupted()) return print_note("cpu: interrupted");
  if (!ok || fewest() == 0) return print_note("cpu: a run failed (see above)");
  phase.report(fewest());
  print_note("cpu: " + std::to_string(fewest()) + " rounds of one run per probe, order rotating; load average now " +
             bench::loadavg());
  bench::report_cpu(probes, runs, args.cpu_pps, args.flows);
}

void run_overrun(Context& cx, const Args& args, bench::Budget& budget, const std::vector<ProbeKind>& probes) {
  print_note("overrun: alice over " + std::to_string(args.flows) +
             " flows at 25k, 50k, 100k, 200k pps and as fast as she goes (also with no probe); load average " +
             bench::loadavg());
  cx.part = "overrun";
  bench::Phase phase("overrun", budget.share("overrun"), kSteps.size());
  std::vector<std::vector<FlowRun>> runs(probes.size());  // [probe][step]
  std::optional<FlowRun> none;                            // alice alone as fast as she goes
  std::vector<std::optional<ProbeKind>> variants(probes.begin(), probes.end());
  std::vector<double> overhead(variants.size() + 1, 0.8);
  const size_t total_runs = kSteps.size() * probes.size() + 1;
  size_t done = 0, steps = 0;
  for (; steps < kSteps.size() && phase.more(steps); ++steps) {
    if (kSteps[steps] == 0 && variants.size() == probes.size()) variants.push_back(std::nullopt);
    for (size_t k = 0; k < variants.size(); ++k, ++done) {
      size_t which = (steps + k) % variants.size();  // the order alternates
      double runs_left = static_cast<double>(total_runs - done);
      double send = std::max(kMinSendS, (phase.seconds() - phase.elapsed()) / runs_left - overhead[which]);
      auto run = run_once(cx, variants[which], kSteps[steps], send);
      if (!run) {
        if (!bench::interrupted()) print_note("overrun: a run failed (see above)");
        return;
      }
      overhead[which] = run->wall_s - run->send_s;
      (variants[which] ? runs[which].emplace_back() : none.emplace()) = *run;
    }
  }
  if (bench::interrupted()) return print_note("overrun: interrupted");
  phase.report(steps);
  print_note("overrun: one run per probe per step, order alternating; load average now " + bench::loadavg());
  bench::report_overrun(probes, runs, kSteps, none);
}

// The peer drops alice's streams at its input: no ICMP port-unreachables come back.
bool peer_drops(const netd::testing::Testbed& bed, bool add) {
  if (!add) return bed.in_peer({"nft", "delete", "table", "inet", "flowmonbench"}).ok();
  for (const std::vector<std::string>& cmd :
       {std::vector<std::string>{"nft", "add", "table", "inet", "flowmonbench"},
        std::vector<std::string>{"nft", "add", "chain", "inet", "flowmonbench", "in",
                                 "{ type filter hook input priority 0 ; }"},
        std::vector<std::string>{"nft", "add", "rule", "inet", "flowmonbench", "in", "udp", "dport",
                                 std::to_string(kFirstPort) + "-" + std::to_string(kMarkerPort), "drop"}}) {
    auto r = bed.in_peer(cmd);
    if (!r.ok()) {
      print_note("flowmon_bench: peer nft: " + r.describe());
      return false;
    }
  }
  return true;
}

void usage() {
  std::fputs(
      "usage: flowmon_bench [--seconds N] [--cpu-pps N] [--flows N] [--rounds N]\n"
      "                     [--no-cpu] [--no-overrun] [--softflowd-root] [--cleanup]\n"
      "  --seconds N       the whole run, set-up included, shared cpu 1 : overrun 1; default 90.\n"
      "                    cpu takes at least 2 runs per probe, overrun one run per probe per step\n"
      "                    (up to twice its share)\n"
      "  --cpu-pps N       alice's steady rate in the cpu part; default 50000\n"
      "  --flows N         distinct destination ports alice sends to in turn (1..200); default 64\n"
      "  --rounds N        cpu: rounds of one run per probe its share is split into; default 4\n"
      "  --softflowd-root  softflowd as root on uplink0 (its own packet socket) instead of as the\n"
      "                    monitor slice under sliceip exec (netd's capture socket)\n"
      "  --cleanup         only remove what killed benchmark runs left behind, then exit\n"
      "Needs root, softflowd and softflowctl (scripts/install-deps). Prints `name value unit` lines,\n"
      "ratios and verdicts; never fails on a figure.\n"
      "SIGINT/SIGTERM: stops, removes everything it made, exits 128+signal.\n",
      stderr);
}

std::optional<Args> parse_args(int argc, char** argv) {
  Args a;
  if (!bench::parse_flags(argc, argv,
                          {{"--seconds", &a.seconds, 86400},
                           {"--cpu-pps", &a.cpu_pps, 10000000},
                           {"--flows", &a.flows, kMarkerPort - kFirstPort},
                           {"--rounds", &a.rounds, 1000}},
                          {{"--no-cpu", &a.cpu},
                           {"--no-overrun", &a.overrun},
                           {"--softflowd-root", &a.softflowd_as_root, true},
                           {"--cleanup", &a.cleanup, true}}))
    return std::nullopt;
  return a;
}

// Everything the run makes lives in this scope: by its end it is torn down, also when a
// signal cut the loops short.
int run(const Args& args) {
  bench::Budget budget(args.seconds,
                       {{"cpu", args.cpu ? kCpuWeight : 0}, {"overrun", args.overrun ? kOverrunWeight : 0}}, kReserveS);
  std::vector<ProbeKind> probes = {ProbeKind::kFlowmon};
  if (access("/usr/sbin/softflowd", X_OK) == 0 && access("/usr/sbin/softflowctl", X_OK) == 0)
    probes.push_back(ProbeKind::kSoftflowd);
  else
    print_note("flowmon_bench: softflowd is not installed (scripts/install-deps): netd-flowmon alone, no ratios");
  netd::testing::TestbedOptions options = bench::default_testbed_options();
  options.extra_bob = bench::kMonitorSlice;
  auto bed = bench::start_testbed("flowmon_bench", std::move(options));
  if (!bed) return 1;
  auto launcher = bench::testbed_launcher(*bed);
  if (!launcher.ok()) {
    print_note("flowmon_bench: no launcher: " + launcher.error().message);
    return 1;
  }
  // A directory the monitor may write in: softflowd's control socket and pid file.
  const std::string dir = bed->dir() + "/flowmon";
  if ((mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) || chmod(dir.c_str(), 0777) != 0 || !peer_drops(*bed, true)) {
    print_note("flowmon_bench: set-up failed");
    return 1;
  }
  auto ipfix_sink = bench::FlowSink::open(bed->host(), kIpfixPort, bench::FlowFormat::kIpfix);
  auto netflow_sink = bench::FlowSink::open(bed->host(), kNetflowPort, bench::FlowFormat::kNetflowV5);
  if (!ipfix_sink.ok() || !netflow_sink.ok()) {
    print_note("flowmon_bench: sink: " + (ipfix_sink.ok() ? netflow_sink.error() : ipfix_sink.error()).message);
    return 1;
  }
  void* mem = mmap(nullptr, sizeof(Senders), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    print_note("flowmon_bench: mmap failed");
    return 1;
  }
  auto* senders = new (mem) Senders();
  bench::ProbePlace place{*bed, *launcher, dir, args.softflowd_as_root};
  Context cx{*bed, place, *ipfix_sink, *netflow_sink, senders, args.flows};
  print_note(std::string("flowmon_bench: softflowd ") +
             (args.softflowd_as_root ? "as root on uplink0 (libpcap on its own packet socket)"
                                     : "as the monitor slice under sliceip exec (libpcap on netd's capture socket)") +
             ", NetFlow v5, 4 MiB ring; netd-flowmon --ipfix as the monitor slice; both export to a socket of ours "
             "on the host netns' loopback");

  if (args.cpu && !bench::interrupted()) run_cpu(cx, args, budget, probes);
  if (args.overrun && !bench::interrupted()) run_overrun(cx, args, budget, probes);
  munmap(mem, sizeof(Senders));
  peer_drops(*bed, false);
  print_note("flowmon_bench: " + fixed(args.seconds - budget.left(), 1) + " s of a " + std::to_string(args.seconds) +
             " s budget, set-up included; tearing down");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = parse_args(argc, argv);
  if (auto done =
          bench::begin({"flowmon_bench", "namespaces, cgroups, netd", usage, args.has_value(), args && args->cleanup}))
    return *done;
  return bench::finish(run(*args));
}
