// scale_bench: 4096 slices on one host (issue 16; bench/README.md, Targets rows "... with 4096
// slices"). Every slice with a route gets policy-routing rules, and every route lookup on the
// host may walk them: this measures the paths that look a route up per packet with N slices
// (--slices, 4096) against 1, each slice with one route and one vif, the ratios taken in the
// same run. Two layouts side by side (scale_sides.h):
//   netd.n1 / netd.nN      testbeds where netd made the rules for alice alone / for N slices
//                          (whatever layout netd makes: the benchmark only counts the rules)
//   before.n1 / before.nN  namespaces netd never saw, with the old layout installed by the
//                          benchmark (`ip -batch`: one fwmark rule per slice at one priority)
// Three parts, each in rounds that visit the four sides in rotating order, so drift on the
// machine hits them alike:
//  fwd   iperf3 TCP from an inner netns through alice's tun (snat: netd's vif on the netd
//        sides, root's tun with the same nft marking and masquerade on the before sides),
//        forwarded and masqueraded by the host out of uplink0 to the peer: a route lookup per
//        packet each way, with alice's mark (her table misses: 10.0.1.2 is in main, so the
//        old layout walks every rule). Throughput and CPU per GB (iperf3 + the forwarder,
//        in whose context the host's forwarding runs).
//  udp   unconnected UDP (64 B, sendmmsg of 32 datagrams each carrying its address: one
//        route lookup per datagram) as fast as one process goes, for a window: carol (in no
//        slice, to the peer through main) and alice (a member, to 198.51.100.7 through her
//        route; on the old layout her rule is the last). Datagrams per second.
//  rr    TCP request/response, 64 B, one connection (bench/request_response.h): carol and
//        alice as above, and carol in the inner netns (forwarded through alice's tun). A
//        connected socket caches its route and early demux skips the lookup on receive, so
//        only the forwarded one looks up per packet. Median, p90, p99, per-run medians.
// Targets: N slices at least 0.97x the throughput / datagrams per second of 1, TCP_RR median at
// most 1.05x; for netd only (the before figures show what the old layout cost).
// Then, on the netd sides only (scale_requests.h): reloads adding / removing / changing one
// slice, in-daemon requests (route add+del, vif add+del, raw socket handout, shaping set) as
// alice, N slices against 1; netd's start (at set-up) and RSS with N slices.
//
// It prints `name value unit` lines, ratios, and a verdict per target; it never fails on a
// figure.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_support.h"
#include "bench/bench_testbed.h"
#include "bench/budget.h"
#include "bench/request_response.h"
#include "bench/scale_requests.h"
#include "bench/scale_sides.h"
#include "bench/udp_sender.h"
#include "bench/udp_window.h"
#include "tests/integration/common/testbed.h"

namespace {

using bench::ClientPlace;
using bench::fixed;
using bench::print_figure;
using bench::print_note;
using bench::stats_of;
using bench::scale::Side;
using Clock = std::chrono::steady_clock;

struct Args {
  int seconds = 150;  // the whole run, set-up included
  int slices = 4096;
  int fwd_seconds = 2;  // each iperf3 run
  int window_ms = 400;  // each UDP window and each request/response run
  int request_rounds = 10;
  bool fwd = true, udp = true, rr = true, requests = true;
  bool cleanup = false;
};

constexpr size_t kMinRounds = 3;
// How the budget left after the set-up is shared (bench::Budget).
constexpr double kFwdWeight = 1.3, kUdpWeight = 0.7, kRrWeight = 1, kReloadWeight = 0.3, kRequestWeight = 0.7;
// The share of --seconds the vifs of the N-slice testbed may take to make (each is a device,
// guards and map entries: thousands may not fit; the report says how many did).
constexpr double kVifShare = 0.2;
// Kept for the tear-down: netd's stop, thousands of devices, six namespaces.
constexpr double kReserveSeconds = 10;
constexpr double kFwdTarget = 0.97, kUdpTarget = 0.97, kRrTarget = 1.05;

using bench::scale::kBefore1;
using bench::scale::kBeforeN;
using bench::scale::kNetd1;
using bench::scale::kNetdN;
using bench::scale::kSides;
using bench::scale::many_of;
using bench::scale::one_of;
using bench::scale::Sides;

const char* const kLayouts[2] = {"netd", "before"};

// "<side>: figures" per side, the layout ratios, and (netd) the verdict or (before) the
// comparison. `values[s]` per side (per-round figures, same round order), `paired[l]` the
// per-round N / 1 ratios of layout l. lower_is_better: latency.
struct Compared {
  std::string part;    // "scale.udp.member"
  std::string what;    // for the verdict: "unconnected UDP sends of a slice member"
  std::string unit;
  double scale = 1;    // values / scale in the figures
  bool lower_is_better = false;
  double target = 1;
};

void print_ratios(const Compared& c, const Sides& sides, const std::array<std::vector<double>, kSides>& values,
                  const std::array<std::vector<double>, 2>& paired) {
  const std::string n = std::to_string(sides[kNetdN]->slices);
  for (size_t l = 0; l < 2; ++l) {
    const auto& one = values[one_of(l)];
    const auto& many = values[many_of(l)];
    if (one.empty() || many.empty()) continue;
    const std::string base = c.part + "." + kLayouts[l];
    const double ratio_median = stats_of(many).median / stats_of(one).median;
    const double ratio = paired[l].empty() ? ratio_median : stats_of(paired[l]).median;
    print_figure(base + ".ratio_paired_median", ratio, "x");
    if (!paired[l].empty()) {
      auto [lo, hi] = std::minmax_element(paired[l].begin(), paired[l].end());
      print_figure(base + ".ratio_paired_min", *lo, "x");
      print_figure(base + ".ratio_paired_max", *hi, "x");
    }
    print_figure(base + ".ratio_median", ratio_median, "x");
    const bool met = c.lower_is_better ? ratio <= c.target : ratio >= c.target;
    const std::string measured = fixed(ratio) + " x paired median, " + fixed(ratio_median) + " x of the medians";
    if (l == 0)
      bench::print_verdict(c.part + " " + c.what + " with " + n + " slices " + (c.lower_is_better ? "<= " : ">= ") +
                               fixed(c.target) + "x with 1 (paired median)",
                           met, measured);
    else
      bench::print_comparison(c.part + " " + c.what + " with the old linear rules, " + n + " slices against 1: " +
                              measured);
  }
}

void print_series(const std::string& name, const std::vector<double>& v, double scale, const char* unit) {
  if (v.empty()) return;
  auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  print_figure(name + ".median", stats_of(v).median / scale, unit);
  print_figure(name + ".min", *lo / scale, unit);
  print_figure(name + ".max", *hi / scale, unit);
  bench::print_samples(name, v.size());
}

// ---------------------------------------------------------------------------------------------
// fwd

void run_fwd(const Args& args, Sides& sides, bench::Budget& budget) {
  std::vector<bench::IperfVariant> variants;
  for (auto& s : sides) {
    bench::Command client =
        bench::iperf_client("iperf3 -c (" + s->name + ", forwarded)", netd::testing::kCarol, s->inner_ns.get(), false);
    variants.push_back({s->name, &*s->launcher, client, {}, {}, true, s->forwarder->pid()});
  }
  bench::probe_variants("fwd", variants);
  std::vector<std::vector<double>> paired;
  bench::Phase phase("fwd", budget.share("fwd"), kMinRounds);
  if (!bench::run_iperf_rounds("fwd", phase, variants, args.fwd_seconds, false,
                               {{kNetd1, kNetdN}, {kBefore1, kBeforeN}}, &paired))
    return print_note("fwd: interrupted");
  phase.report(bench::fewest_runs(variants));
  print_note("fwd: rounds of " + std::to_string(args.fwd_seconds) +
             " s iperf3 TCP runs from the inner netns through alice's tun, forwarded and masqueraded out of uplink0; "
             "order rotating; " + bench::iperf_runs_text(variants));
  std::array<std::vector<double>, kSides> values;
  for (size_t s = 0; s < kSides; ++s) {
    values[s] = variants[s].bps;
    print_series("scale.fwd." + variants[s].name, variants[s].bps, 1e9, "Gbit/s");
    if (!variants[s].cpu_per_gbyte.empty())
      print_figure("scale.fwd." + variants[s].name + ".cpu_per_gbyte", stats_of(variants[s].cpu_per_gbyte).median, "s");
  }
  for (size_t l = 0; l < 2; ++l) {
    const auto& one = variants[one_of(l)].cpu_per_gbyte;
    const auto& many = variants[many_of(l)].cpu_per_gbyte;
    if (!one.empty() && !many.empty())
      print_figure(std::string("scale.fwd.") + kLayouts[l] + ".ratio_efficiency",
                   stats_of(one).median / stats_of(many).median, "x");
  }
  print_ratios({"scale.fwd", "forwarded TCP through a snat vif", "Gbit/s", 1e9, false, kFwdTarget}, sides, values,
               {paired[0], paired[1]});
}

// ---------------------------------------------------------------------------------------------
// udp

struct UdpUser {
  const char* name;  // "noslice", "member"
  const char* what;
  ClientPlace (Side::*place)() const;
  const char* dst;
  uint16_t port;
};

void run_udp(const Args& args, Sides& sides, bench::Budget& budget) {
  bench::SenderShm* shm = bench::make_sender_shm();
  if (shm == nullptr) return print_note("udp: skipped: no shared memory for the sender");
  const UdpUser users[2] = {
      {"noslice", "unconnected UDP sends of a user in no slice", &Side::noslice, bench::kPeerIp, 9000},
      {"member", "unconnected UDP sends of a slice member (through her route)", &Side::member,
       bench::scale::kRemoteIp, 9001}};
  std::array<std::array<std::vector<double>, kSides>, 2> values;
  std::array<std::array<std::vector<double>, 2>, 2> paired;
  const double window = args.window_ms / 1000.0;
  auto fewest = [&] {
    size_t n = SIZE_MAX;
    for (const auto& u : values)
      for (const auto& v : u) n = std::min(n, v.size());
    return n;
  };
  bench::Phase phase("udp", budget.share("udp"), kMinRounds);
  for (size_t round = 0; phase.more(fewest()); ++round) {
    std::array<std::array<std::optional<double>, kSides>, 2> got;
    for (size_t k = 0; k < kSides && !bench::interrupted(); ++k) {
      const size_t s = (round + k) % kSides;
      for (size_t j = 0; j < 2 && !bench::interrupted(); ++j) {
        const size_t u = (round + j) % 2;
        const UdpUser& user = users[u];
        auto pps = bench::udp_window((sides[s].get()->*user.place)(), {user.dst, user.port, 0, 0, 1, true},
                                     window, "udp", sides[s]->name + " " + user.name, shm);
        if (!pps) continue;
        got[u][s] = pps;
        values[u][s].push_back(*pps);
      }
    }
    for (size_t u = 0; u < 2; ++u)
      for (size_t l = 0; l < 2; ++l)
        if (got[u][one_of(l)] && got[u][many_of(l)]) paired[u][l].push_back(*got[u][many_of(l)] / *got[u][one_of(l)]);
  }
  bench::free_sender_shm(shm);
  if (bench::interrupted()) return print_note("udp: interrupted");
  phase.report(fewest());
  for (size_t u = 0; u < 2; ++u) {
    std::string runs;
    for (size_t s = 0; s < kSides; ++s) runs += " " + sides[s]->name + ":" + bench::series_text(values[u][s], 1e3);
    print_note("udp: " + std::string(users[u].name) + ": windows of " + std::to_string(args.window_ms) +
               " ms, 64 B datagrams to " + users[u].dst + ", order rotating; kpps" + runs);
    for (size_t s = 0; s < kSides; ++s)
      print_series("scale.udp." + std::string(users[u].name) + "." + sides[s]->name, values[u][s], 1, "pps");
    print_ratios({"scale.udp." + std::string(users[u].name), users[u].what, "pps", 1, false, kUdpTarget}, sides,
                 values[u], paired[u]);
  }
}

// ---------------------------------------------------------------------------------------------
// rr

struct RrClient {
  const char* name;  // "noslice", "member", "fwd"
  const char* what;
  ClientPlace (Side::*place)() const;
  const char* dst;
};

void run_rr(const Args& args, Sides& sides, bench::Budget& budget) {
  const RrClient clients[3] = {
      {"noslice", "TCP_RR median of a user in no slice", &Side::noslice, bench::kPeerIp},
      {"member", "TCP_RR median of a slice member (through her route)", &Side::member, bench::scale::kRemoteIp},
      {"fwd", "TCP_RR median forwarded through a snat vif", &Side::behind_tun, bench::kPeerIp}};
  // Per client and side: every transaction, and each run's median (one per round).
  std::array<std::array<std::vector<double>, kSides>, 3> all, run_medians;
  std::array<std::array<std::vector<double>, 2>, 3> paired;
  const double window = args.window_ms / 1000.0;
  auto fewest = [&] {
    size_t n = SIZE_MAX;
    for (const auto& c : run_medians)
      for (const auto& v : c) n = std::min(n, v.size());
    return n;
  };
  bench::Phase phase("rr", budget.share("rr"), kMinRounds);
  for (size_t round = 0; phase.more(fewest()); ++round) {
    std::array<std::array<std::optional<double>, kSides>, 3> got;
    for (size_t k = 0; k < kSides && !bench::interrupted(); ++k) {
      const size_t s = (round + k) % kSides;
      for (size_t j = 0; j < 3 && !bench::interrupted(); ++j) {
        const size_t c = (round + j) % 3;
        ClientPlace place = (sides[s].get()->*clients[c].place)();
        place.cpu = bench::scale::kRrCpu;
        auto us = bench::request_response(place, clients[c].dst,
                                          bench::scale::kEchoPort, window,
                                          "rr: " + sides[s]->name + " " + clients[c].name + "'s client");
        if (!us) continue;
        const double median = stats_of(*us).median;
        got[c][s] = median;
        run_medians[c][s].push_back(median);
        all[c][s].insert(all[c][s].end(), us->begin(), us->end());
      }
    }
    for (size_t c = 0; c < 3; ++c)
      for (size_t l = 0; l < 2; ++l)
        if (got[c][one_of(l)] && got[c][many_of(l)]) paired[c][l].push_back(*got[c][many_of(l)] / *got[c][one_of(l)]);
  }
  if (bench::interrupted()) return print_note("rr: interrupted");
  phase.report(fewest());
  for (size_t c = 0; c < 3; ++c) {
    std::string runs;
    for (size_t s = 0; s < kSides; ++s) runs += " " + sides[s]->name + ":" + bench::series_text(run_medians[c][s], 1);
    print_note("rr: " + std::string(clients[c].name) + ": runs of " + std::to_string(args.window_ms) + " ms, " +
               std::to_string(bench::kRrMessage) + " B each way to " + clients[c].dst +
               ", order rotating; per-run medians, us" + runs);
    std::array<std::vector<double>, kSides> medians;
    for (size_t s = 0; s < kSides; ++s) {
      if (all[c][s].empty()) continue;
      const std::string name = "scale.rr." + std::string(clients[c].name) + "." + sides[s]->name;
      bench::Stats st = stats_of(all[c][s]);
      print_figure(name + ".median", st.median, "us");
      print_figure(name + ".p90", st.p90, "us");
      print_figure(name + ".p99", st.p99, "us");
      bench::print_samples(name, st.n);
      auto [lo, hi] = std::minmax_element(run_medians[c][s].begin(), run_medians[c][s].end());
      print_figure(name + ".run_median_min", *lo, "us");
      print_figure(name + ".run_median_max", *hi, "us");
      medians[s] = run_medians[c][s];
    }
    print_ratios({"scale.rr." + std::string(clients[c].name), clients[c].what, "us", 1, true, kRrTarget}, sides,
                 medians, paired[c]);
  }
}

// ---------------------------------------------------------------------------------------------

void print_setup(const Side& s) {
  const std::string name = "scale.setup." + s.name;
  if (s.netd) print_figure(name + ".start", s.start_ms, "ms");
  print_figure(name + ".routes", s.routes, "samples");
  print_figure(name + ".routes_seconds", s.routes_s, "s");
  if (s.netd) {
    print_figure(name + ".vifs", s.vifs, "samples");
    print_figure(name + ".vifs_seconds", s.vifs_s, "s");
  }
  print_note(s.name + ": " + s.rules);
}

void usage() {
  std::fputs(
      "usage: scale_bench [--seconds N] [--slices N] [--fwd-seconds N] [--window-ms N]\n"
      "                   [--request-rounds N] [--no-fwd] [--no-udp] [--no-rr] [--no-requests]\n"
      "                   [--cleanup]\n"
      "  --seconds N          the whole run, set-up included; default 150. The vifs of the\n"
      "                       N-slice testbed get at most a fifth of it (the report says how many\n"
      "                       were made); the parts share the rest (fwd 1.3 : udp 0.7 : rr 1 :\n"
      "                       reload 0.3 : requests 0.7), each taking at least its minimum (3\n"
      "                       rounds; 10 requests of each kind) up to twice its share\n"
      "  --slices N           slices of the large variants, 2..7990; default 4096\n"
      "  --fwd-seconds N      length of each iperf3 run; default 2\n"
      "  --window-ms N        length of each UDP window and each request/response run; default 400\n"
      "  --request-rounds N   interleaved rounds of the in-daemon requests; default 10\n"
      "  --no-requests        skip the reloads and the in-daemon requests\n"
      "  --cleanup            only remove what killed benchmark runs left behind, then exit\n"
      "Needs root. Prints `name value unit` lines, ratios and verdicts; never fails on a figure.\n"
      "SIGINT/SIGTERM: stops, removes everything it made, exits 128+signal.\n",
      stderr);
}

std::optional<Args> parse_args(int argc, char** argv) {
  Args a;
  if (!bench::parse_flags(argc, argv,
                          {{"--seconds", &a.seconds, 86400},
                           {"--slices", &a.slices, 7990},
                           {"--fwd-seconds", &a.fwd_seconds, 3600},
                           {"--window-ms", &a.window_ms, 60000},
                           {"--request-rounds", &a.request_rounds, 1000}},
                          {{"--no-fwd", &a.fwd},
                           {"--no-udp", &a.udp},
                           {"--no-rr", &a.rr},
                           {"--no-requests", &a.requests},
                           {"--cleanup", &a.cleanup, true}}) ||
      a.slices < 2)
    return std::nullopt;
  return a;
}

// Everything the run makes lives in this scope: by its end it is torn down, also when a
// signal cut the loops short.
int run(const Args& args) {
  if (access(bench::kIperf3, X_OK) != 0) {
    print_note("scale_bench: skipped: " + std::string(bench::kIperf3) + " is not installed");
    return 0;
  }
  const auto start = Clock::now();
  bench::Budget budget(args.seconds,
                       {{"fwd", args.fwd ? kFwdWeight : 0.0},
                        {"udp", args.udp ? kUdpWeight : 0.0},
                        {"rr", args.rr ? kRrWeight : 0.0},
                        {"reload", args.requests ? kReloadWeight : 0.0},
                        {"requests", args.requests ? kRequestWeight : 0.0}},
                       kReserveSeconds);
  Sides sides;
  // The N-slice testbed first: its vifs stop at their share of the budget.
  const auto vif_deadline = start + bench::Phase::to_duration(args.seconds * kVifShare);
  sides[kNetdN] = bench::scale::make_netd_side(args.slices, vif_deadline);
  if (sides[kNetdN] && !bench::interrupted()) sides[kNetd1] = bench::scale::make_netd_side(1, start);
  if (sides[kNetd1] && !bench::interrupted()) sides[kBefore1] = bench::scale::make_before_side(1);
  if (sides[kBefore1] && !bench::interrupted()) sides[kBeforeN] = bench::scale::make_before_side(args.slices);
  if (!sides[kBeforeN]) {
    if (!bench::interrupted()) print_note("scale_bench: skipped: set-up failed");
    return 0;
  }
  print_note("scale_bench: set up in " + fixed(args.seconds - budget.left(), 1) + " s; load average " +
             bench::loadavg());
  for (size_t s : {kNetd1, kNetdN, kBefore1, kBeforeN}) print_setup(*sides[s]);
  if (sides[kNetdN]->vifs < args.slices)
    print_note("setup: " + std::to_string(sides[kNetdN]->vifs) + " of " + std::to_string(args.slices) +
               " slices got their vif within " + fixed(args.seconds * kVifShare, 0) +
               " s (a fifth of --seconds); the rest have a route only");

  if (args.fwd && !bench::interrupted()) run_fwd(args, sides, budget);
  if (args.udp && !bench::interrupted()) run_udp(args, sides, budget);
  if (args.rr && !bench::interrupted()) run_rr(args, sides, budget);
  if (args.requests && !bench::interrupted()) bench::scale::run_reloads(*sides[kNetd1], *sides[kNetdN], budget);
  if (args.requests && !bench::interrupted())
    bench::scale::run_requests(*sides[kNetd1], *sides[kNetdN], budget, args.request_rounds);
  if (!bench::interrupted()) bench::scale::print_footprint(*sides[kNetd1], *sides[kNetdN]);
  print_note("scale_bench: " + fixed(args.seconds - budget.left(), 1) + " s of a " + std::to_string(args.seconds) +
             " s budget, set-up included; load average " + bench::loadavg() + "; tearing down");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = parse_args(argc, argv);
  if (auto done = bench::begin({"scale_bench", "namespaces, cgroups, netd, ip rules", usage, args.has_value(),
                                args && args->cleanup}))
    return *done;
  return bench::finish(run(*args));
}
