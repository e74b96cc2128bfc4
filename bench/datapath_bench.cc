// datapath_bench: what netd costs the packets of every user on the host (issue 18; bench/README.md,
// "datapath_bench"). One testbed (a host netns with uplinks to a peer netns, slices alice and bob,
// uplink_rate 100gbit so that HTB's cap never limits a flow, no slice shaped), visited in states,
// the order rotating every round so drift on the machine hits them alike:
//   off           netd stopped and `netd --teardown` run: the host as if netd had never run
//   on            netd running, freshly started (stopped, torn down and started again before)
//   shaped        the same with bob shaped (rate 10gbit): uplink0 then carries netd's HTB root
//                 and classifier, and carol's and alice's packets cross its default class
//   vif           the same as on with bob holding a persistent tun (the vif guard's cgroup
//                 ingress program, egress chain and prerouting rule exist only while some vif does)
//   raw           the same as on with alice granted raw ICMP and packet sockets: the send fence
//                 and conntrack, which exist only once some slice may hold such sockets
//   no_<part>     netd running with one of its per-packet parts removed by hand (the difference
//                 to `on`, `shaped`, `vif` or `raw` is what that part costs): its rule tree
//                 (`ip rule del`); from `raw`, its `inet netd` table (the fence's output rule,
//                 and ct mark save/restore and the conntrack it pulls in where that is needed),
//                 its `netdev netd` table (the send fence on every device) and the flow
//                 recorder's cgroup egress program; from `shaped`, the uplink's HTB root and tcx classifier; from `vif`,
//                 the vif guard's ingress program
// Per state, as carol (in no slice) and as alice (a member, tagged, unshaped), both in netd's
// cgroup: TCP throughput (iperf3, CPU per GB from its rusage), unconnected UDP 64 B datagrams
// per second (one route lookup and one trip through every hook per datagram), TCP_RR 64 B
// median (client and echo on one CPU). Ratios are per round against `off` (paired), then the
// median over rounds. The tagging program and the bind hooks run once per socket or bind, not
// per packet: not a state here.
//
// It prints `name value unit` lines, ratios, and a verdict per target; it never fails on a
// figure.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_support.h"
#include "bench/bench_testbed.h"
#include "bench/budget.h"
#include "bench/request_response.h"
#include "bench/udp_sender.h"
#include "bench/udp_window.h"
#include "netd/kernel/bpf/shape_classifier.h"
#include "netd/kernel/bpf/tcx_pins.h"
#include "tests/fixtures/json.h"
#include "tests/integration/common/testbed.h"

namespace {

using bench::ClientPlace;
using bench::fixed;
using bench::print_figure;
using bench::print_note;
using bench::stats_of;
using netd::Status;
using netd::testing::Testbed;
using netd::testing::TestbedOptions;
using Clock = std::chrono::steady_clock;

struct Args {
  int seconds = 300;  // the whole run, set-up included
  int tcp_seconds = 2;  // each iperf3 run (plus 1 s omitted)
  int window_ms = 500;  // each UDP window and each request/response run
  bool breakdown = true;
  bool cleanup = false;
};

constexpr size_t kMinRounds = 3;
constexpr double kReserveSeconds = 10;
constexpr uint16_t kEchoPort = 5301;
constexpr uint16_t kUdpPort = 9000;
constexpr int kRrCpu = 0;  // client and echo on one CPU (scale_sides.h says why)
constexpr double kTcpTarget = 0.97, kRrTarget = 1.03, kUdpTarget = 0.95;

// ---------------------------------------------------------------------------------------------
// States

// Runs `argv` as root in the host netns; ok or what failed.
Status host_must(const Testbed& bed, std::vector<std::string> argv, const std::string& what) {
  return bench::must(bed.root(std::move(argv)), what);
}

Status detach_pin(const Testbed& bed, const std::string& pin) {
  return host_must(bed, {"bpftool", "link", "detach", "pinned", pin}, "detaching " + pin);
}

// Deletes every rule netd's tree holds (priority 1000, the testbed's rule_priority, up to the
// main table's 32766), both families.
Status delete_rule_tree(const Testbed& bed) {
  for (const char* family : {"-4", "-6"}) {
    auto rules = netd::testing::json_of(bed.root({"ip", "-j", family, "rule", "show"}).out);
    if (!rules.is_array()) return netd::make_error(EIO, std::string("ip ") + family + " rule show: no JSON");
    for (const auto& rule : rules) {
      const int priority = rule.value("priority", 0);
      if (priority < 1000 || priority >= 32766) continue;
      NETD_TRY(host_must(bed, {"ip", family, "rule", "del", "priority", std::to_string(priority)},
                         "deleting rule " + std::to_string(priority)));
    }
  }
  return netd::ok_status();
}

Status delete_shaping(const Testbed& bed) {
  NETD_TRY(host_must(bed, {"tc", "qdisc", "del", "dev", "uplink0", "root"}, "deleting uplink0's HTB root"));
  // netd's own teardown of the classifier's links (bpffs is the same in every netns).
  const std::string dir = bed.bpffs() + "/netd/" + netd::kernel::ShapeClassifier::kDir;
  const std::string prefix = netd::kernel::ShapeClassifier::kEgressLinkPrefix;
  NETD_ASSIGN_OR_RETURN(std::vector<int> pinned, netd::kernel::pinned_link_ifindexes(dir, prefix));
  if (pinned.empty()) return netd::make_error(ENOENT, "no egress classifier pinned in " + dir);
  return netd::kernel::detach_pinned_links(dir, prefix);
}

struct State {
  std::string name;
  std::string what;
  // Applied to a freshly started netd (null: none); `off` is handled apart.
  std::function<Status(const Testbed&)> remove;
  // What netd is started with for this state, instead of the run's policy (""), e.g. a slice
  // shaped so that the uplink carries the HTB root.
  std::string policy;
  // Run once netd is up (as a slice: e.g. a vif made through netd).
  std::function<Status(Testbed&)> add;
};

// bob with a rate: the uplink then carries the HTB root and the classifier, and carol's and
// alice's packets go through the default class (the shaped case: what an HTB root costs the
// traffic it does not hold back, with uplink_rate far above the veth's speed).
constexpr const char* kShapedBob = "rate = \"10gbit\"\n";
constexpr const char* kRawAlice = "raw = [\"icmp\", \"packet\"]\n";

std::vector<State> states(const Testbed& bed, const TestbedOptions& options, bool breakdown) {
  std::vector<State> all = {
      {"off", "netd stopped, --teardown run", nullptr},
      {"on", "netd running", nullptr},
  };
  TestbedOptions shaped = options;
  shaped.extra_bob += kShapedBob;
  all.push_back({"shaped", "netd running, bob shaped (HTB root and classifier on uplink0)", nullptr,
                 bed.policy_text(shaped)});
  const auto bobs_tun = [](Testbed& bed) {
    auto made = bed.vtuntap(netd::testing::kBob, {"add", "tun", "--persist"});
    return made.ok() ? netd::ok_status() : netd::make_error(EIO, "vtuntap add: " + made.describe());
  };
  all.push_back({"vif", "netd running, bob holding a persistent tun (the vif guard: its ingress program, its egress "
                 "chain on the tun, the prerouting rule that marks what the tun brings in)", nullptr, "", bobs_tun});
  // alice may hold raw ICMP and packet sockets: the send fence (an output rule, an egress chain
  // on every device) and conntrack (her raw sockets' filters keep replies by the restored mark).
  TestbedOptions raw = options;
  raw.extra_alice += kRawAlice;
  all.push_back({"raw", "netd running, alice granted raw ICMP and packet sockets (the send fence, conntrack)",
                 nullptr, bed.policy_text(raw)});
  if (!breakdown) return all;
  const auto nft_delete = [](const char* family) {
    return [family](const Testbed& bed) {
      return host_must(bed, {"nft", "delete", "table", family, "netd"}, std::string("deleting table ") + family);
    };
  };
  all.push_back({"no_rules", "without its rule tree", delete_rule_tree});
  all.push_back({"no_inet", "raw, without table inet netd (ct mark save/restore, conntrack, the fence's output rule)",
                 nft_delete("inet"), bed.policy_text(raw)});
  all.push_back({"no_netdev", "raw, without table netdev netd (the send fence on every device)", nft_delete("netdev"),
                 bed.policy_text(raw)});
  all.push_back({"no_shaping", "shaped, without uplink0's HTB root and tcx classifier", delete_shaping,
                 bed.policy_text(shaped)});
  all.push_back({"no_flowrec", "raw, without the flow recorder's cgroup egress program",
                 [](const Testbed& bed) { return detach_pin(bed, bed.bpffs() + "/netd/raw/egress_link"); },
                 bed.policy_text(raw)});
  all.push_back({"no_vifguard", "bob's tun, without the vif guard's cgroup ingress program",
                 [](const Testbed& bed) { return detach_pin(bed, bed.bpffs() + "/netd/vifs/ingress_link"); }, "",
                 bobs_tun});
  return all;
}

// Moves the testbed into `state`: netd stopped and torn down for `off`; else netd started afresh
// on the state's policy (stopped and torn down first unless it is running untouched on the
// run's policy), the state's additions made and its part removed. *fresh says whether netd
// runs untouched on the run's policy (`run_policy`).
Status enter(Testbed& bed, const State& state, const std::string& run_policy, bool* fresh) {
  const bool running = bed.netd_pid() > 0;
  const bool own_policy = !state.policy.empty();
  if (state.name == "off" || !*fresh || !running || own_policy || state.add) {
    if (running) {
      auto stopped = bed.stop_netd();
      if (!stopped.ok()) return netd::make_error(EIO, "netd's stop: exit " + std::to_string(stopped.exit_code));
    }
    auto torn = bed.root({netd::testing::netd_binary(), "--policy", bed.policy_path(), "--teardown"});
    if (!torn.ok()) return netd::make_error(EIO, "netd --teardown: " + torn.describe());
    *fresh = false;
    if (state.name == "off") return netd::ok_status();
    NETD_TRY(bed.write_policy(own_policy ? state.policy : run_policy));
    NETD_TRY(bed.start_netd());
    *fresh = !own_policy;
  }
  if (state.add) {
    *fresh = false;
    NETD_TRY(state.add(bed));
  }
  if (state.remove) {
    *fresh = false;
    NETD_TRY(state.remove(bed));
  }
  return netd::ok_status();
}

// ---------------------------------------------------------------------------------------------
// Measurements

struct User {
  const char* name;  // "noslice", "member"
  const char* what;
  uid_t uid;
};
constexpr std::array<User, 2> kUsers = {{{"noslice", "a user in no slice", netd::testing::kCarol},
                                        {"member", "an unshaped slice member", netd::testing::kAlice}}};

enum Metric : size_t { kTcp, kCpu, kUdp, kRr, kMetrics };
struct MetricInfo {
  const char* name;
  const char* unit;
  double scale;  // figures are value / scale
  bool lower_is_better;
  double target;  // 0: no verdict
};
constexpr std::array<MetricInfo, kMetrics> kMetricInfo = {{{"tcp", "Gbit/s", 1e9, false, kTcpTarget},
                                                           {"cpu_per_gbyte", "s", 1, true, 0},
                                                           {"udp", "kpps", 1e3, false, kUdpTarget},
                                                           {"rr", "us", 1, true, kRrTarget}}};

// values[state][user][metric]: one figure per round (rounds in which the state was measured).
using Series = std::vector<std::array<std::array<std::vector<double>, kMetrics>, kUsers.size()>>;
// The same per round, for the paired ratios (nullopt: not measured that round).
using RoundValues = std::vector<std::array<std::array<std::optional<double>, kMetrics>, kUsers.size()>>;

struct Bed {
  Testbed& bed;
  const bench::Launcher& launcher;
  bench::SenderShm* shm;
};

void measure(const Args& args, Bed& b, const std::string& state, size_t round,
             std::array<std::array<std::optional<double>, kMetrics>, kUsers.size()>& got) {
  const double window = args.window_ms / 1000.0;
  for (size_t j = 0; j < kUsers.size() && !bench::interrupted(); ++j) {
    const User& user = kUsers[(round + j) % kUsers.size()];
    auto& out = got[(round + j) % kUsers.size()];
    const std::string who = state + " " + user.name;
    auto report = bench::iperf_run(b.launcher, bench::iperf_client("iperf3 -c (" + who + ")", user.uid),
                                   args.tcp_seconds, true);
    if (report.ok()) {
      out[kTcp] = report->bits_per_second;
      if (report->bytes > 0) out[kCpu] = report->cpu_seconds / (report->bytes / 1e9);
    } else if (!bench::interrupted()) {
      print_note("tcp: " + who + ": " + report.error().message);
    }
    const ClientPlace place{b.bed.host().path(), b.bed.cgroup() + "/cgroup.procs", user.uid, 0, kRrCpu};
    out[kUdp] = bench::udp_window(place, {bench::kPeerIp, kUdpPort, 0, 0, 1, true}, window, "udp", who, b.shm);
    auto rr = bench::request_response(place, bench::kPeerIp, kEchoPort, window, "rr: " + who + "'s client");
    if (rr && !rr->empty()) out[kRr] = stats_of(*rr).median;
  }
}

void report(const std::vector<State>& all, const Series& values, const std::vector<RoundValues>& per_state) {
  const size_t off = 0, on = 1;
  for (size_t u = 0; u < kUsers.size(); ++u)
    for (size_t m = 0; m < kMetrics; ++m) {
      const MetricInfo& info = kMetricInfo[m];
      const std::string base = std::string("datapath.") + info.name + "." + kUsers[u].name;
      std::string runs;
      for (size_t s = 0; s < all.size(); ++s) {
        const auto& v = values[s][u][m];
        if (v.empty()) continue;
        auto [lo, hi] = std::minmax_element(v.begin(), v.end());
        print_figure(base + "." + all[s].name + ".median", stats_of(v).median / info.scale, info.unit);
        print_figure(base + "." + all[s].name + ".min", *lo / info.scale, info.unit);
        print_figure(base + "." + all[s].name + ".max", *hi / info.scale, info.unit);
        runs += " " + all[s].name + ":" + bench::series_text(v, info.scale);
      }
      print_note(base + ": per round," + runs);
      // Paired: state / off in the same round.
      for (size_t s = 1; s < all.size(); ++s) {
        std::vector<double> ratios;
        for (size_t r = 0; r < per_state[s].size() && r < per_state[off].size(); ++r) {
          const auto& a = per_state[s][r][u][m];
          const auto& b = per_state[off][r][u][m];
          if (a && b && *b > 0) ratios.push_back(*a / *b);
        }
        if (ratios.empty()) continue;
        auto [lo, hi] = std::minmax_element(ratios.begin(), ratios.end());
        const double ratio = stats_of(ratios).median;
        print_figure(base + "." + all[s].name + ".ratio_off_paired_median", ratio, "x");
        print_figure(base + "." + all[s].name + ".ratio_off_paired_min", *lo, "x");
        print_figure(base + "." + all[s].name + ".ratio_off_paired_max", *hi, "x");
        if (s == on && info.target > 0) {
          const bool met = info.lower_is_better ? ratio <= info.target : ratio >= info.target;
          bench::print_verdict(base + " " + std::string(info.name) + " of " + kUsers[u].what + ", netd on vs off " +
                                   (info.lower_is_better ? "<= " : ">= ") + fixed(info.target) + "x (paired median)",
                               met, fixed(ratio) + " x (" + fixed(*lo) + " .. " + fixed(*hi) + ")");
        }
      }
    }
}

// ---------------------------------------------------------------------------------------------

void usage() {
  std::fputs(
      "usage: datapath_bench [--seconds N] [--tcp-seconds N] [--window-ms N] [--no-breakdown] [--cleanup]\n"
      "  --seconds N       the whole run, set-up included; default 300. Rounds visit every state\n"
      "                    (rotating order) until it is spent, at least 3 (up to twice the time)\n"
      "  --tcp-seconds N   length of each iperf3 run (plus 1 s omitted); default 2\n"
      "  --window-ms N     length of each UDP window and each request/response run; default 500\n"
      "  --no-breakdown    only netd on and off, not each part removed in turn\n"
      "  --cleanup         only remove what killed benchmark runs left behind, then exit\n"
      "Needs root. Prints `name value unit` lines, ratios and verdicts; never fails on a figure.\n"
      "SIGINT/SIGTERM: stops, removes everything it made, exits 128+signal.\n",
      stderr);
}

std::optional<Args> parse_args(int argc, char** argv) {
  Args a;
  if (!bench::parse_flags(argc, argv,
                          {{"--seconds", &a.seconds, 86400},
                           {"--tcp-seconds", &a.tcp_seconds, 3600},
                           {"--window-ms", &a.window_ms, 60000}},
                          {{"--no-breakdown", &a.breakdown}, {"--cleanup", &a.cleanup, true}}))
    return std::nullopt;
  return a;
}

int run(const Args& args) {
  if (access(bench::kIperf3, X_OK) != 0) {
    print_note("datapath_bench: skipped: " + std::string(bench::kIperf3) + " is not installed");
    return 0;
  }
  bench::Budget budget(args.seconds, {{"rounds", 1}}, kReserveSeconds);
  TestbedOptions options = bench::default_testbed_options();
  options.extra_netd += "uplink_rate = \"100gbit\"\n";
  // As installed: the systemd unit runs netd inside the policy's cgroup.
  options.netd_in_cgroup = true;
  auto bed = bench::start_testbed("datapath_bench", options);
  if (!bed) return 0;
  auto launcher = bench::testbed_launcher(*bed);
  if (!launcher.ok()) {
    print_note("datapath_bench: skipped: " + launcher.error().message);
    return 0;
  }
  // The peer drops the UDP datagrams before anything answers them (no port unreachable back).
  const std::string drop =
      "table inet datapath_sink {\n"
      "  chain prerouting { type filter hook prerouting priority -300; policy accept; udp dport 9000 drop; }\n"
      "}\n";
  if (auto s = bench::must(netd::testing::run_in(&bed->peer(), {"nft", "-f", "-"}, drop), "the peer's UDP drop");
      !s.ok()) {
    print_note("datapath_bench: skipped: " + s.error().message);
    return 0;
  }
  auto sink = bench::start_sink(*launcher, bed->peer(), "datapath");
  auto echo = bench::start_echo(bed->peer(), "0.0.0.0", kEchoPort, kRrCpu);
  if (!sink || !echo || !bench::wait_listening(bed->peer(), kEchoPort)) {
    print_note("datapath_bench: skipped: the peer's servers did not start");
    return 0;
  }
  bench::SenderShm* shm = bench::make_sender_shm();
  if (shm == nullptr) return 0;
  Bed b{*bed, *launcher, shm};

  const std::string run_policy = bed->policy_text(options);
  const std::vector<State> all = states(*bed, options, args.breakdown);
  Series values(all.size());
  std::vector<RoundValues> per_state(all.size());
  bool fresh = true;
  auto fewest = [&] {
    size_t n = SIZE_MAX;
    for (const auto& s : per_state) n = std::min(n, s.size());
    return n;
  };
  bench::Phase phase("rounds", budget.share("rounds"), kMinRounds);
  for (size_t round = 0; phase.more(fewest()); ++round) {
    for (size_t k = 0; k < all.size() && !bench::interrupted(); ++k) {
      const size_t s = (round + k) % all.size();
      if (auto st = enter(*bed, all[s], run_policy, &fresh); !st.ok()) {
        print_note("state " + all[s].name + ": " + st.error().message);
        fresh = false;
        continue;
      }
      std::array<std::array<std::optional<double>, kMetrics>, kUsers.size()> got;
      measure(args, b, all[s].name, round, got);
      for (size_t u = 0; u < kUsers.size(); ++u)
        for (size_t m = 0; m < kMetrics; ++m)
          if (got[u][m]) values[s][u][m].push_back(*got[u][m]);
      per_state[s].push_back(got);
    }
  }
  bench::free_sender_shm(shm);
  if (bench::interrupted()) {
    print_note("datapath_bench: interrupted");
    return 0;
  }
  phase.report(fewest());
  std::string described;
  for (const auto& s : all) described += " " + s.name + " (" + s.what + ");";
  print_note("states:" + described + " TCP runs of " + std::to_string(args.tcp_seconds) +
             " s (-O 1), UDP and TCP_RR windows of " + std::to_string(args.window_ms) + " ms, to " + bench::kPeerIp +
             " out of uplink0");
  report(all, values, per_state);
  // Leave netd running on the run's policy, so the testbed's tear-down stops it.
  if (bed->netd_pid() <= 0) {
    (void)bed->write_policy(run_policy);
    (void)bed->start_netd();
  }
  print_note("datapath_bench: " + fixed(args.seconds - budget.left(), 1) + " s of a " + std::to_string(args.seconds) +
             " s budget; load average " + bench::loadavg());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = parse_args(argc, argv);
  if (auto done = bench::begin({"datapath_bench", "namespaces, cgroups, netd", usage, args.has_value(),
                                args && args->cleanup}))
    return *done;
  return bench::finish(run(*args));
}
