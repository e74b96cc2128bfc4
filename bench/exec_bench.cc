// exec_bench: what `sliceip exec` costs the program it runs (bench/README.md, Targets rows
// "sliceip exec ..."), each part against the same program run without it in the same run.
//
//  handout  exec_loop's socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)) + close as alice (slice
//           with raw = ["packet"]) under `sliceip exec`: the call is trapped, the supervisor asks
//           netd (io.netd.Sockets.Packet) and installs the fd; against the same program calling
//           netd_packet_socket(client, htons(ETH_P_ALL), NULL) + close itself, run directly (the
//           same request to the same netd, no supervisor). Interleaved rounds of blocks, one
//           process run per block, a few untimed calls first in each (the first trapped socket()
//           pays the supervisor's connection; the API side connects before its calls).
//  mix      exec_loop's loop of socket(AF_INET, SOCK_STREAM) + close + getpid, calls the filter
//           lets through in the kernel: its iterations/s under `sliceip exec` against without,
//           in rounds of one run each (the order rotating), so what others do to the machine hits
//           both alike; the figure is the median of the rounds' ratios. A third run per round, the
//           same loop under a filter of its own with sliceip exec's rules and no supervisor
//           ("filter"), shows how much of the cost is the kernel's seccomp run itself; a fourth,
//           under the smallest filter that reads socket()'s arguments ("floor"), the least any
//           seccomp filter that decides socket() by its arguments costs this machine.
//  tcpdump  unmodified tcpdump -w under `sliceip exec` as alice against root's tcpdump without
//           netd, bob flooding the uplink while alice sends a known number of datagrams at a
//           steady rate: the share of alice's that each captured, and bob's seen under exec
//           (none). Rounds of one capture per side, the order alternating (bench/exec_tcpdump.cc).
//
// It prints `name value unit` lines, ratios, and a verdict per target; it never fails on a
// figure.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_support.h"
#include "bench/bench_testbed.h"
#include "bench/budget.h"
#include "bench/exec_tcpdump.h"
#include "tests/integration/common/testbed.h"

namespace {

using bench::Command;
using bench::fixed;
using bench::Launcher;
using bench::print_figure;
using bench::print_note;
using bench::print_verdict;
using bench::Stats;
using bench::stats_of;
using netd::testing::kAlice;
using netd::testing::Testbed;
using Clock = std::chrono::steady_clock;

struct Args {
  int seconds = 60;     // the whole run, set-up included (bench/run-all gives it this)
  int rounds = 10;      // handout: interleaved rounds of one block per side
  int mix_rounds = 20;  // mix: rounds (exec, direct, filter, floor) its share is split into
  bench::TcpdumpArgs tcpdump;
  bool handout = true;
  bool mix = true;
  bool run_tcpdump = true;
  bool cleanup = false;
};

// How the budget is shared (as weights) and the fewest samples each part takes, however long
// that takes (up to twice its share).
constexpr double kHandoutWeight = 1, kMixWeight = 1, kTcpdumpWeight = 1;
constexpr size_t kHandoutMin = 200;  // calls per side
constexpr size_t kMixMinRounds = 5;
constexpr int kHandoutWarmup = 5;    // untimed calls per process run
constexpr int kMixWarmup = 2000;     // untimed iterations per process run
constexpr long long kNoCount = 1000000000000LL;  // the deadline ends the loop

// The sides of a part: exec_loop under `sliceip exec` and exec_loop run directly; for the mix
// also exec_loop under a filter of its own with sliceip exec's rules (mix-filter) and under the
// smallest filter that reads socket()'s arguments (mix-floor).
enum Side { kExec = 0, kDirect = 1, kSides = 2, kFilter = 2, kFloor = 3, kMixSides = 4 };
constexpr const char* kMixModes[kMixSides] = {"mix", "mix", "mix-filter", "mix-floor"};

using bench::loadavg;

long long ns_of(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// exec_loop MODE as alice, under `sliceip exec --` or not; `until` 0: no deadline.
Command loop_command(bool under_exec, const std::string& mode, int warmup, long long count, long long until) {
  std::vector<std::string> argv;
  if (under_exec) argv = {netd::testing::sliceip_binary(), "exec", "--"};
  for (const std::string& w :
       {std::string(EXEC_LOOP_BINARY), mode, std::to_string(warmup), std::to_string(count), std::to_string(until)})
    argv.push_back(w);
  return Command{(under_exec ? "sliceip exec -- exec_loop " : "exec_loop ") + mode, kAlice, kAlice, argv};
}

// Runs cmd; its stdout's numbers two per line, or nullopt after a note saying why.
std::optional<std::vector<std::pair<long long, long long>>> run_loop(const Launcher& launcher, const Command& cmd) {
  auto o = launcher.run_collecting(cmd);
  if (o.code != 0) {
    if (!bench::interrupted())
      print_note(cmd.label + ": exit " + std::to_string(o.code) + (o.err.empty() ? "" : ": " + o.err));
    return std::nullopt;
  }
  std::vector<std::pair<long long, long long>> rows;
  std::istringstream in(o.out);
  long long a = 0, b = 0;
  while (in >> a >> b) rows.emplace_back(a, b);
  if (rows.empty()) {
    print_note(cmd.label + ": printed no figures");
    return std::nullopt;
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// handout

struct CallSeries {
  std::vector<double> total_us, socket_us, close_us;
};

void report_handout(const CallSeries (&s)[kSides]) {
  const char* names[kSides] = {"exec", "api"};
  Stats total[kSides], socket[kSides];
  double per_second[kSides];
  for (int v = 0; v < kSides; ++v) {
    total[v] = stats_of(s[v].total_us);
    socket[v] = stats_of(s[v].socket_us);
    Stats close = stats_of(s[v].close_us);
    std::string name = std::string("exec.handout.") + names[v];
    print_figure(name + ".median", total[v].median, "us");
    print_figure(name + ".p90", total[v].p90, "us");
    print_figure(name + ".p99", total[v].p99, "us");
    print_figure(name + ".socket.median", socket[v].median, "us");
    print_figure(name + ".socket.p99", socket[v].p99, "us");
    print_figure(name + ".close.median", close.median, "us");
    print_figure(name + ".close.p99", close.p99, "us");
    // Calls over the time they took, the slow ones included (a close that waits for a grace
    // period, a call that waited for the CPU).
    double sum_us = 0;
    for (double us : s[v].total_us) sum_us += us;
    per_second[v] = static_cast<double>(total[v].n) * 1e6 / sum_us;
    print_figure(name + ".per_second", per_second[v], "1/s");
    bench::print_samples(name, total[v].n);
  }
  double ratio = total[kExec].median / total[kDirect].median;
  print_figure("exec.handout.ratio_median", ratio, "x");
  print_figure("exec.handout.ratio_p99", total[kExec].p99 / total[kDirect].p99, "x");
  print_figure("exec.handout.ratio_socket_median", socket[kExec].median / socket[kDirect].median, "x");
  print_figure("exec.handout.ratio_per_second", per_second[kExec] / per_second[kDirect], "x");
  print_figure("exec.handout.supervisor_us.median", socket[kExec].median - socket[kDirect].median, "us");
  print_verdict(
      "exec.handout socket(AF_PACKET)+close under sliceip exec "
      "median <= 1.3x netd_packet_socket+close",
      ratio <= 1.3, fixed(ratio) + " x");
}

void run_handout(const Testbed& bed, const Launcher& launcher, const Args& args, bench::Budget& budget) {
  print_note("handout: load average " + loadavg());
  // One untimed run of each proves the path (the trapped socket() must come back from netd:
  // alice has no CAP_NET_RAW, the kernel alone would refuse it) and warms the caches.
  for (bool under_exec : {true, false}) {
    if (!run_loop(launcher, loop_command(under_exec, under_exec ? "socket" : "api", kHandoutWarmup, 20, 0))) {
      budget.drop("handout");
      return print_note("handout: skipped (see above)");
    }
  }
  size_t log_skip = bench::log_lines(bed);
  bench::Phase phase("handout", budget.share("handout"), kHandoutMin);
  CallSeries s[kSides];
  bool ok = true;
  auto fewest = [&] { return std::min(s[kExec].total_us.size(), s[kDirect].total_us.size()); };
  bench::run_interleaved(Clock::now(), phase.seconds() - phase.elapsed(), args.rounds, kSides, kHandoutMin, fewest,
                         [&](int side, Clock::time_point until) {
                           bool under_exec = side == kExec;
                           auto rows = run_loop(launcher, loop_command(under_exec, under_exec ? "socket" : "api",
                                                                       kHandoutWarmup, kNoCount, ns_of(until)));
                           if (!rows) return ok = false;
                           for (auto [socket_ns, close_ns] : *rows) {
                             s[side].socket_us.push_back(socket_ns / 1000.0);
                             s[side].close_us.push_back(close_ns / 1000.0);
                             s[side].total_us.push_back((socket_ns + close_ns) / 1000.0);
                           }
                           return true;
                         });
  if (bench::interrupted()) return print_note("handout: interrupted");
  if (!ok) return print_note("handout: a run failed (see above)");
  phase.report(fewest());
  print_note("handout: " + std::to_string(args.rounds) +
             " interleaved rounds, one process run per block; load average now " + loadavg());
  report_handout(s);
  Stats service = stats_of(bench::audit_micros(bed, log_skip, "io.netd.Sockets.Packet"));
  if (service.n > 0) {
    print_figure("exec.handout.netd_service_us.median", service.median, "us");
    print_figure("exec.handout.netd_service_us.p99", service.p99, "us");
  }
}

// ---------------------------------------------------------------------------------------------
// mix

// Ratios of side a to side b, round by round.
std::vector<double> paired(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> out;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) out.push_back(a[i] / b[i]);
  return out;
}

void report_mix(const std::vector<double> (&rate)[kMixSides]) {
  const char* names[kMixSides] = {"exec", "direct", "filter", "floor"};
  Stats st[kMixSides];
  for (int v = 0; v < kMixSides; ++v) {
    st[v] = stats_of(rate[v]);
    std::string name = std::string("exec.mix.") + names[v];
    print_figure(name + ".per_second.median", st[v].median, "1/s");
    print_figure(name + ".ns_per_iteration.median", 1e9 / st[v].median, "ns");
    bench::print_samples(name, st[v].n);
  }
  std::vector<double> ratios = paired(rate[kExec], rate[kDirect]);
  Stats r = stats_of(ratios);
  print_figure("exec.mix.ratio_paired_median", r.median, "x");
  print_figure("exec.mix.ratio_paired_min", *std::min_element(ratios.begin(), ratios.end()), "x");
  print_figure("exec.mix.ratio_paired_max", *std::max_element(ratios.begin(), ratios.end()), "x");
  print_figure("exec.mix.ratio_median", st[kExec].median / st[kDirect].median, "x");
  // What the kernel's filter run costs by itself, and what sliceip exec adds to it.
  print_figure("exec.mix.ratio_paired_median.filter_direct", stats_of(paired(rate[kFilter], rate[kDirect])).median,
               "x");
  print_figure("exec.mix.ratio_paired_median.exec_filter", stats_of(paired(rate[kExec], rate[kFilter])).median, "x");
  // The least any filter that reads socket()'s arguments costs, and sliceip exec against it.
  print_figure("exec.mix.ratio_paired_median.floor_direct", stats_of(paired(rate[kFloor], rate[kDirect])).median, "x");
  print_figure("exec.mix.ratio_paired_median.exec_floor", stats_of(paired(rate[kExec], rate[kFloor])).median, "x");
  print_note(
      "mix: floor = the smallest filter that reads socket()'s arguments (load one, allow): the least "
      "any seccomp filter deciding socket() by its arguments costs here; with floor_direct below "
      "0.98 no seccomp-based supervisor can meet the target on this machine");
  print_verdict(
      "exec.mix untouched syscalls under sliceip exec >= 0.98x "
      "without (paired median, iterations/s)",
      r.median >= 0.98, fixed(r.median, 3) + " x");
}

void run_mix(const Launcher& launcher, const Args& args, bench::Budget& budget) {
  print_note("mix: load average " + loadavg());
  bench::Phase phase("mix", budget.share("mix"), kMixMinRounds);
  std::vector<double> rate[kMixSides];  // iterations/s; entry i of each side: round i
  bool ok = true;
  auto fewest = [&] {
    return std::min({rate[kExec].size(), rate[kDirect].size(), rate[kFilter].size(), rate[kFloor].size()});
  };
  bench::run_interleaved(Clock::now(), phase.seconds() - phase.elapsed(), args.mix_rounds, kMixSides, kMixMinRounds,
                         fewest, [&](int side, Clock::time_point until) {
                           auto rows = run_loop(launcher, loop_command(side == kExec, kMixModes[side], kMixWarmup,
                                                                       kNoCount, ns_of(until)));
                           if (!rows) return ok = false;
                           auto [iterations, ns] = rows->front();
                           rate[side].push_back(static_cast<double>(iterations) * 1e9 / static_cast<double>(ns));
                           return true;
                         });
  if (bench::interrupted()) return print_note("mix: interrupted");
  if (!ok || fewest() == 0) return print_note("mix: a run failed (see above)");
  phase.report(fewest());
  print_note("mix: " + std::to_string(fewest()) + " rounds of time-sized runs, order rotating; load average now " +
             loadavg());
  report_mix(rate);
}

// ---------------------------------------------------------------------------------------------

void usage() {
  std::fputs(
      "usage: exec_bench [--seconds N] [--rounds N] [--mix-rounds N] "
      "[--tcpdump-rounds N] [--alice-pps N]\n"
      "                  [--no-handout] [--no-mix] [--no-tcpdump] [--cleanup]\n"
      "  --seconds N     the whole run, set-up included, shared handout 1 : "
      "mix 1 : tcpdump 1; default 60.\n"
      "                  Each part loops until its share is spent, but takes "
      "at least 200 calls per\n"
      "                  side / 5 rounds of runs / 2 captures per side (up to twice its share)\n"
      "  --rounds N      interleaved rounds a handout share is split into; "
      "default 10\n"
      "  --mix-rounds N  rounds of runs (under sliceip exec, without, own "
      "filter, floor filter) the mix share is\n"
      "                  split into; default 20\n"
      "  --tcpdump-rounds N  rounds of captures (under sliceip exec, root's) the tcpdump share is\n"
      "                  split into; default 3\n"
      "  --alice-pps N   alice's steady stream while tcpdump captures; default 20000\n"
      "  --cleanup       only remove what killed benchmark runs left behind, "
      "then exit\n"
      "Needs root. Prints `name value unit` lines, ratios and verdicts; never "
      "fails on a figure.\n"
      "SIGINT/SIGTERM: stops, removes everything it made, exits 128+signal.\n",
      stderr);
}

std::optional<Args> parse_args(int argc, char** argv) {
  Args a;
  if (!bench::parse_flags(
          argc, argv,
          {{"--seconds", &a.seconds, 86400}, {"--rounds", &a.rounds, 1000}, {"--mix-rounds", &a.mix_rounds, 1000},
           {"--tcpdump-rounds", &a.tcpdump.rounds, 1000}, {"--alice-pps", &a.tcpdump.alice_pps, 1000000}},
          {{"--no-handout", &a.handout},
           {"--no-mix", &a.mix},
           {"--no-tcpdump", &a.run_tcpdump},
           {"--cleanup", &a.cleanup, true}}))
    return std::nullopt;
  return a;
}

// Everything the run makes lives in this scope: by its end it is torn down, also when a
// signal cut the loops short.
int run(const Args& args) {
  bench::Budget budget(args.seconds, {{"handout", args.handout ? kHandoutWeight : 0},
                                      {"mix", args.mix ? kMixWeight : 0},
                                      {"tcpdump", args.run_tcpdump ? kTcpdumpWeight : 0}});
  netd::testing::TestbedOptions options = bench::default_testbed_options();
  options.extra_alice = "raw = [\"packet\"]\n";
  auto bed = bench::start_testbed("exec_bench", std::move(options));
  if (!bed) return 1;
  auto launcher = bench::testbed_launcher(*bed);
  if (!launcher.ok()) {
    print_note("exec_bench: no launcher: " + launcher.error().message);
    return 1;
  }
  if (args.handout && !bench::interrupted()) run_handout(*bed, *launcher, args, budget);
  if (args.mix && !bench::interrupted()) run_mix(*launcher, args, budget);
  if (args.run_tcpdump && !bench::interrupted()) bench::run_tcpdump(*bed, *launcher, args.tcpdump, budget);
  print_note("exec_bench: " + fixed(args.seconds - budget.left(), 1) + " s of a " + std::to_string(args.seconds) +
             " s budget, set-up included; tearing down");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = parse_args(argc, argv);
  if (auto done =
          bench::begin({"exec_bench", "namespaces, cgroups, netd", usage, args.has_value(), args && args->cleanup}))
    return *done;
  return bench::finish(run(*args));
}
