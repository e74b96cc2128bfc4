// shape_bench: the shaping feature's figures (bench/README.md, Targets row "shaping accuracy", and what
// shaping costs the traffic it does not shape), each against a baseline measured in the same run.
//
//  accuracy  iperf3 TCP as a slice whose policy says rate = ceil = 10 Mbit, 100 Mbit, 1 Gbit,
//            out of uplink0 (netd's HTB class 4e44:<id>, set by its tcx classifier), against
//            the goodput that rate allows at MTU 1500: rate × 1448/1514. Rounds of one run per
//            rate, the order rotating.
//  cost      iperf3 TCP from carol (in no slice: the default class 4e44:fffe) out of uplink0
//            with 1 shaped slice and with 4096 (4096 classes, 4096 map entries), two testbeds
//            side by side, and over a plain veth pair netd has never seen (no qdisc at all).
//            Rounds of one run per variant, the order rotating. Plus netd's start with 1 and
//            with 4096 shaped slices, its reload with 4096, and its RSS.
//
// It prints `name value unit` lines, ratios, and a verdict per target; it never fails on a
// figure.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "bench/bench_support.h"
#include "bench/bench_testbed.h"
#include "bench/budget.h"
#include "tests/fixtures/json.h"
#include "tests/integration/common/testbed.h"

namespace {

using bench::class_bytes;
using bench::Command;
using bench::extra_slices;
using bench::fixed;
using bench::iperf_client;
using bench::iperf_run;
using bench::IperfVariant;
using bench::kExtraUidBase;
using bench::kIperf3;
using bench::print_figure;
using bench::print_note;
using bench::print_verdict;
using bench::RunningChild;
using bench::series_text;
using bench::start_shaping_testbed;
using bench::start_sink;
using bench::stats_of;
using netd::UniqueFd;
using netd::testing::kAlice;
using netd::testing::kBob;
using netd::testing::kCarol;
using netd::testing::Netns;
using netd::testing::Testbed;
using netd::testing::TestbedOptions;
using Clock = std::chrono::steady_clock;

// The default class may borrow up to uplink_rate: far above what one veth flow reaches here,
// so in the cost part HTB's cap is never what limits the flow.
constexpr const char* kCostUplinkRate = "100gbit";
constexpr double kCostUplinkBps = 100e9;

struct Args {
  int seconds = 165;  // the whole run, set-up included (bench/run-all gives it this)
  int accuracy_seconds = 5;
  int cost_seconds = 5;
  int slices = 4096;
  bool accuracy = true;
  bool cost = true;
  bool cleanup = false;
};

// The budget is shared evenly by the two parts, less what the cost part does after its loop
// (reloads of the N-slice netd) and the tear-down of its testbeds; each part takes at least this
// many rounds (a median of 3), however long that takes (up to twice its share).
constexpr double kAfterCostSeconds = 10;
constexpr size_t kMinRounds = 3;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
double ms_since(Clock::time_point t) { return seconds_since(t) * 1e3; }

// The HTB classes on uplink0 and the entries of the classifier's map, from tc and bpftool.
std::pair<size_t, size_t> shaping_state(const Testbed& bed) {
  auto classes = bed.root({"tc", "class", "show", "dev", "uplink0"});
  size_t n_classes = 0;
  for (size_t at = classes.out.find("class htb"); at != std::string::npos; at = classes.out.find("class htb", at + 1))
    ++n_classes;
  auto map = netd::testing::json_of(
      bed.root({"bpftool", "-j", "map", "dump", "pinned", bed.bpffs() + "/netd/shaping/classes"}).out);
  return {n_classes, map.is_array() ? map.size() : 0};
}

// ---------------------------------------------------------------------------------------------
// accuracy

struct Rate {
  std::string label;
  uid_t uid;
  double bps;
  std::vector<double> runs;  // goodput, bit/s
};

void run_accuracy(const Args& args, bench::Budget& budget) {
  // alice 10 Mbit, bob 100 Mbit, slice s9 1 Gbit; the default uplink_rate (10gbit) above them.
  TestbedOptions options;
  options.extra_alice = "rate = \"10mbit\"\n";
  options.extra_bob = "rate = \"100mbit\"\n" + extra_slices(9, 1, "rate = \"1gbit\"\n");
  double start_ms = 0;
  auto bed = start_shaping_testbed("shape_bench accuracy", options, &start_ms);
  if (!bed) return print_note("accuracy: skipped: no testbed");
  auto launcher = bench::testbed_launcher(*bed);
  if (!launcher.ok()) return print_note("accuracy: skipped: " + launcher.error().message);
  auto sink = start_sink(*launcher, bed->peer(), "accuracy");
  if (!sink) return;

  std::vector<Rate> rates = {{"10mbit", kAlice, 10e6, {}}, {"100mbit", kBob, 100e6, {}},
                             {"1gbit", kExtraUidBase + 9, 1e9, {}}};
  auto fewest = [&] {
    return std::min({rates[0].runs.size(), rates[1].runs.size(), rates[2].runs.size()});
  };
  bench::Phase phase("accuracy", budget.share("accuracy"), kMinRounds);
  for (size_t round = 0; phase.more(fewest()); ++round) {
    for (size_t k = 0; k < rates.size() && !bench::interrupted(); ++k) {
      Rate& r = rates[(round + k) % rates.size()];
      auto report =
          iperf_run(*launcher, iperf_client("iperf3 -c (" + r.label + ")", r.uid), args.accuracy_seconds, true);
      if (!report.ok()) {
        if (!bench::interrupted()) print_note("accuracy: " + r.label + " run " + std::to_string(round) + ": " +
                                              report.error().message);
        continue;
      }
      r.runs.push_back(report->bits_per_second);
    }
  }
  std::string runs;
  for (const auto& r : rates) runs += " " + r.label + ":" + series_text(r.runs, 1e6);
  if (bench::interrupted()) return print_note("accuracy: interrupted");
  phase.report(fewest());
  print_note("accuracy: rounds of " + std::to_string(args.accuracy_seconds) +
             " s iperf3 TCP runs (-O 1), one per rate; Mbit/s" + runs);
  for (const auto& r : rates)
    bench::print_accuracy("shape.accuracy." + r.label, "shape.accuracy " + r.label, r.runs, r.bps);
}

// ---------------------------------------------------------------------------------------------
// cost

// The floor for writing the tree: root's `tc -batch` (one process, one netlink request a line)
// making netd's tree with `slices` slice classes (1mbit, netd's bursts and quanta) on the native
// uplink0, then changing every slice class to 2mbit; ms of each, nullopt after a note if tc
// failed. The tree is deleted again.
struct TcBatchTimes {
  double create_ms = 0, change_ms = 0;
};
std::optional<TcBatchTimes> tc_batch(const Netns& ns, const std::string& dir, int slices) {
  auto htb_class = [](const char* verb, uint32_t minor, const std::string& parent, const std::string& rate,
                      uint64_t burst, uint32_t quantum) {
    char line[256];
    std::snprintf(line, sizeof line, "class %s dev uplink0 parent %s classid 4e44:%x htb rate %s ceil %s burst %llu "
                  "cburst %llu quantum %u\n", verb, parent.c_str(), minor, rate.c_str(), rate.c_str(),
                  static_cast<unsigned long long>(burst), static_cast<unsigned long long>(burst), quantum);
    return std::string(line);
  };
  const uint64_t top_burst = static_cast<uint64_t>(kCostUplinkBps / 8 / 250);  // one 250 Hz tick
  std::string create = "qdisc add dev uplink0 root handle 4e44: htb default fffe\n";
  create += htb_class("add", 0xffff, "4e44:", kCostUplinkRate, top_burst, 200000);
  create += htb_class("add", 0xfffe, "4e44:ffff", std::to_string(100000 - slices) + "mbit", top_burst, 200000);
  std::string change;
  for (uint32_t id = 7; id < 7 + static_cast<uint32_t>(slices); ++id) {
    create += htb_class("add", id, "4e44:ffff", "1mbit", 15140, 12500);
    change += htb_class("change", id, "4e44:ffff", "2mbit", 15140, 25000);
  }
  TcBatchTimes t;
  for (auto [text, ms, name] : {std::tuple{&create, &t.create_ms, "create"}, {&change, &t.change_ms, "change"}}) {
    const std::string path = dir + "/tc-" + name + ".batch";
    if (!(std::ofstream(path, std::ios::trunc) << *text)) {
      print_note("tc -batch: cannot write " + path);
      return std::nullopt;
    }
    auto t0 = Clock::now();
    auto r = netd::testing::run_in(&ns, {"tc", "-batch", path});
    *ms = ms_since(t0);
    if (!r.ok()) {
      print_note("tc -batch " + std::string(name) + ": " + r.describe());
      return std::nullopt;
    }
  }
  (void)netd::testing::run_in(&ns, {"tc", "qdisc", "del", "dev", "uplink0", "root"});
  return t;
}

// Reloads of the N-slice netd: the same policy, every rate 1mbit → 2mbit, and back. The time of
// the change, for its ratio to tc's.
std::optional<double> run_reloads(Testbed& many, const TestbedOptions& options, int slices) {
  auto made = bench::shaping_policy(many, options);
  if (!made.ok()) return std::nullopt;
  const std::string policy = *made;
  auto unchanged = bench::timed_reload(many, policy, "unchanged");
  std::string faster = policy;
  for (size_t at = faster.find("rate = \"1mbit\""); at != std::string::npos; at = faster.find("rate = \"1mbit\"", at))
    faster.replace(at, 14, "rate = \"2mbit\"");
  auto changed = bench::timed_reload(many, faster, "rates changed");
  std::string moved = many.root({"tc", "class", "show", "dev", "uplink0", "classid", "4e44:9"}).out;
  auto back = bench::timed_reload(many, policy, "rates back");
  const std::string n = std::to_string(slices);
  if (unchanged) print_figure("shape.reload.slices" + n + ".unchanged", *unchanged, "ms");
  if (changed) print_figure("shape.reload.slices" + n + ".rates_changed", *changed, "ms");
  if (back) print_figure("shape.reload.slices" + n + ".rates_back", *back, "ms");
  print_note("reload: after every slice's rate went 1mbit → 2mbit, tc says: " +
             moved.substr(0, moved.find(" burst")));
  return changed;
}

void run_cost(const Args& args, bench::Budget& budget) {
  // Native: a veth pair between two fresh namespaces, the testbed's uplink0 addresses, no qdisc
  // but the veth's own noqueue, no netd.
  auto native = bench::make_native_pair();
  if (!native.ok()) return print_note("cost: skipped: no native veth pair: " + native.error().message);
  UniqueFd native_ns(open(native->host.path().c_str(), O_RDONLY | O_CLOEXEC));

  // The same policy but for the number of shaped slices: alice alone, or alice, bob and
  // slices-2 more; 1mbit each, the default class left ~100 Gbit.
  TestbedOptions one_options, many_options;
  one_options.extra_netd = many_options.extra_netd = "uplink_rate = \"" + std::string(kCostUplinkRate) + "\"\n";
  one_options.extra_alice = many_options.extra_alice = "rate = \"1mbit\"\n";
  many_options.extra_bob = "rate = \"1mbit\"\n" + extra_slices(9, args.slices - 2, "rate = \"1mbit\"\n");
  const std::string n = std::to_string(args.slices);
  double one_start_ms = 0, many_start_ms = 0;
  auto one = start_shaping_testbed("shape_bench cost (1 slice)", one_options, &one_start_ms);
  if (!one) return print_note("cost: skipped: no 1-slice testbed");
  auto many = start_shaping_testbed("shape_bench cost (" + n + " slices)", many_options, &many_start_ms);
  if (!many) return print_note("cost: skipped: no " + n + "-slice testbed");
  print_figure("shape.start.slices1", one_start_ms, "ms");
  print_figure("shape.start.slices" + n, many_start_ms, "ms");
  print_figure("shape.start.ratio", many_start_ms / one_start_ms, "x");
  const double per_slice_us = (many_start_ms - one_start_ms) * 1e3 / (args.slices - 1);
  print_figure("shape.start.per_extra_slice", per_slice_us, "us");
  // Before any traffic: the native uplink0 has its noqueue back before it carries any.
  auto floor = tc_batch(native->host, one->dir(), args.slices);
  if (floor) {
    print_figure("shape.start.tc_batch_tree", floor->create_ms, "ms");
    print_figure("shape.start.ratio_extra_tc_batch", (many_start_ms - one_start_ms) / floor->create_ms, "x");
  }
  auto [one_classes, one_entries] = shaping_state(*one);
  auto [many_classes, many_entries] = shaping_state(*many);
  print_note("cost: HTB classes on uplink0 / classifier map entries: 1 slice " + std::to_string(one_classes) + " / " +
             std::to_string(one_entries) + ", " + n + " slices " + std::to_string(many_classes) + " / " +
             std::to_string(many_entries) + " (each: the slices', plus top and default class / mark 0)");

  auto one_launcher = bench::testbed_launcher(*one);
  auto many_launcher = bench::testbed_launcher(*many);
  if (!one_launcher.ok() || !many_launcher.ok()) return print_note("cost: skipped: no launcher");
  auto sink_native = start_sink(*one_launcher, native->peer, "cost native");
  auto sink_one = start_sink(*one_launcher, one->peer(), "cost 1 slice");
  auto sink_many = start_sink(*many_launcher, many->peer(), "cost " + n + " slices");
  if (!sink_native || !sink_one || !sink_many) return;

  // carol is in no slice: her sockets carry no mark, the classifier sends them to 4e44:fffe.
  std::vector<IperfVariant> variants;
  variants.push_back({"native", &*one_launcher, iperf_client("iperf3 -c (native)", kCarol, native_ns.get(), false)});
  variants.push_back({"slices1", &*one_launcher, iperf_client("iperf3 -c (1 slice)", kCarol)});
  variants.push_back({"slices" + n, &*many_launcher, iperf_client("iperf3 -c (" + n + " slices)", kCarol)});
  bench::probe_variants("cost", variants);
  if (!variants[1].usable || !variants[2].usable) return;
  const double one_default_before = class_bytes(*one, "uplink0", "4e44:fffe");
  const double many_default_before = class_bytes(*many, "uplink0", "4e44:fffe");

  std::vector<double> pair_ratios;
  bench::Phase phase("cost", budget.share("cost"), kMinRounds);
  if (!bench::run_iperf_rounds("cost", phase, variants, args.cost_seconds, {1, 2}, &pair_ratios))
    return print_note("cost: interrupted");
  phase.report(bench::fewest_runs(variants));
  print_note("cost: rounds of " + std::to_string(args.cost_seconds) +
             " s iperf3 TCP runs (-O 1) as carol (no slice), order rotating; " + bench::iperf_runs_text(variants));
  // Proof that the flows went through HTB's default class (and what share of what was sent).
  print_note("cost: default class 4e44:fffe carried " +
             fixed((class_bytes(*one, "uplink0", "4e44:fffe") - one_default_before) / 1e9, 1) + " GB (1 slice), " +
             fixed((class_bytes(*many, "uplink0", "4e44:fffe") - many_default_before) / 1e9, 1) + " GB (" + n + " slices)");

  for (const auto& v : variants) {
    if (v.bps.empty()) continue;
    print_figure("shape.cost." + v.name + ".median", stats_of(v.bps).median / 1e9, "Gbit/s");
    bench::print_samples("shape.cost." + v.name, v.bps.size());
    if (!v.cpu_per_gbyte.empty())
      print_figure("shape.cost." + v.name + ".cpu_per_gbyte", stats_of(v.cpu_per_gbyte).median, "s");
  }
  if (variants[1].bps.empty() || variants[2].bps.empty()) return;
  const double one_median = stats_of(variants[1].bps).median, many_median = stats_of(variants[2].bps).median;
  // The verdict is on the paired ratio: each round's 1-slice and N-slice runs are neighbours in
  // time, so what others do to this machine (runs here move by ±10 %) hits both alike.
  const double paired = pair_ratios.empty() ? many_median / one_median : stats_of(pair_ratios).median;
  print_figure("shape.cost.ratio_paired_median", paired, "x");
  print_figure("shape.cost.ratio_median", many_median / one_median, "x");
  if (!variants[1].cpu_per_gbyte.empty() && !variants[2].cpu_per_gbyte.empty())
    print_figure("shape.cost.ratio_efficiency",
                 stats_of(variants[1].cpu_per_gbyte).median / stats_of(variants[2].cpu_per_gbyte).median, "x");
  if (!variants[0].bps.empty()) {
    // Not a target: what the HTB root (one lock, one queue) and the classifier cost any flow
    // against the veth's noqueue.
    print_figure("shape.cost.ratio_slices1_native", one_median / stats_of(variants[0].bps).median, "x");
  }
  if (one_median > 0.5 * kCostUplinkBps)
    print_note("cost: the flow reached half of uplink_rate: HTB's ceil may hide the classifier's cost");
  print_verdict("shape.cost default-class throughput with " + n + " shaped slices >= 0.97x with 1 (paired median)",
                paired >= 0.97, fixed(paired) + " x");

  if (bench::interrupted()) return;
  auto reload_changed = run_reloads(*many, many_options, args.slices);
  if (floor) {
    print_figure("shape.reload.tc_batch_change", floor->change_ms, "ms");
    if (reload_changed)
      print_figure("shape.reload.ratio_rates_changed_tc_batch", *reload_changed / floor->change_ms, "x");
  }
  print_figure("shape.netd_rss.slices1", bench::rss_mib(one->netd_pid()), "MiB");
  print_figure("shape.netd_rss.slices" + n, bench::rss_mib(many->netd_pid()), "MiB");
}

// ---------------------------------------------------------------------------------------------

void usage() {
  std::fputs(
      "usage: shape_bench [--seconds N] [--accuracy-seconds N] [--cost-seconds N] [--slices N]\n"
      "                   [--no-accuracy] [--no-cost] [--cleanup]\n"
      "  --seconds N           the whole run, set-up included, shared evenly by the parts that run;\n"
      "                        default 165. Each part runs rounds until its share is spent, but at\n"
      "                        least 3 (up to twice its share)\n"
      "  --accuracy-seconds N  length of each accuracy run (plus 1 s omitted); default 5\n"
      "  --cost-seconds N      length of each cost run (plus 1 s omitted); default 5\n"
      "  --slices N            shaped slices of the large cost variant, 2..8000; default 4096\n"
      "  --cleanup             only remove what killed benchmark runs left behind, then exit\n"
      "Needs root. Prints `name value unit` lines, ratios and verdicts; never fails on a figure.\n"
      "SIGINT/SIGTERM: stops, removes everything it made, exits 128+signal.\n",
      stderr);
}

std::optional<Args> parse_args(int argc, char** argv) {
  Args a;
  if (!bench::parse_flags(argc, argv,
                          {{"--seconds", &a.seconds, 86400},
                           {"--accuracy-seconds", &a.accuracy_seconds},
                           {"--cost-seconds", &a.cost_seconds},
                           {"--slices", &a.slices, 8000}},
                          {{"--no-accuracy", &a.accuracy}, {"--no-cost", &a.cost}, {"--cleanup", &a.cleanup, true}}) ||
      a.slices < 2)
    return std::nullopt;
  return a;
}

// Everything the run makes lives in this scope: by its end it is torn down, also when a
// signal cut the loops short.
int run(const Args& args) {
  if (access(kIperf3, X_OK) != 0) {
    print_note("shape_bench: skipped: " + std::string(kIperf3) + " is not installed");
    return 0;
  }
  bench::Budget budget(args.seconds, {{"accuracy", args.accuracy ? 1.0 : 0.0}, {"cost", args.cost ? 1.0 : 0.0}},
                       args.cost ? kAfterCostSeconds : 2);
  if (args.accuracy && !bench::interrupted()) run_accuracy(args, budget);
  if (args.cost && !bench::interrupted()) run_cost(args, budget);
  print_note("shape_bench: " + fixed(args.seconds - budget.left(), 1) + " s of a " + std::to_string(args.seconds) +
             " s budget, set-up included; tearing down");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = parse_args(argc, argv);
  if (auto done = bench::begin({"shape_bench", "namespaces, cgroups, netd, tc", usage, args.has_value(),
                                args && args->cleanup}))
    return *done;
  return bench::finish(run(*args));
}
