// shape_in_bench: the figures of download (ingress) shaping (bench/README.md, Targets rows
// "download shaping ..."), each against a baseline measured in the same run. netd redirects
// what arrives on uplink0 (its tcx ingress program) into the IFB netdi<ifindex>, whose HTB tree
// has a class 4e44:<id> per slice with a rate_in and the default class 4e44:fffe.
//
// Downloads are iperf3 -R: the slice's client in the host netns (testbed cgroup, its uid) asks
// the root `iperf3 -s` in the peer netns to send. The peer's sockets pick their congestion
// control from the route back to the host (`ip route replace 10.0.1.1/32 dev peer0 congctl X`):
// a slice cannot ask for cubic itself (net.ipv4.tcp_allowed_congestion_control is "reno bbr":
// iperf3 -C sets it on the client's socket too, and the server refuses a -C it cannot set on
// an unprivileged peer), and a non-initial netns may not make cubic its default (EPERM for
// a restricted algorithm), but a route's congctl is not checked against that list.
//
//  accuracy  iperf3 -R -O 1 as slices whose rate_in is 10 Mbit, 100 Mbit, 1 Gbit (rate_in =
//            ceil_in, uplink_rate_in the default 10gbit), each with a bbr and a cubic sender,
//            against rate × 1448/1514. Rounds of one run per (rate, sender), order rotating.
//  cost      carol (in no slice: the default class) downloading unshaped through the ingress
//            program and the IFB with --slices (4096) slices all with rate_in 1mbit, against
//            the same testbed and slices with no rate_in at all (no IFB, no redirect), and a
//            plain veth pair without netd for context. Throughput and CPU per GB (iperf3's
//            client + server rusage); rounds of one run per variant, order rotating; the
//            verdict on the paired ratio.
//  latency   alice's TCP request/response (64 B each way, TCP_NODELAY, one connection, a
//            forked client as uid 1001 against an echo server in the peer netns) with alice
//            within her guarantee (rate_in 20mbit) while bob (rate_in 50mbit, ceil_in 480mbit)
//            downloads as fast as he may with a cubic sender, against alice unloaded; with
//            download shaping and without it (the same testbed with no rate_in anywhere).
//            For "without" to mean something the bottleneck must be a queue: the peer's
//            egress (the "upstream router") gets `tbf rate 500mbit limit 2mb`, so without
//            netd's shaping bob's download fills that queue and alice's replies wait behind
//            it. With it, uplink_rate_in 480mbit (a little below the link) holds the sum below
//            the link: the upstream queue stays empty, the queue forms in the IFB's tree
//            where bob waits in his own class (a bfifo of 100 ms of his rate) and alice in
//            hers. Rounds of the four variants (shaping on/off × unloaded/loaded), order
//            rotating. The peer is directly attached (no router netns): skbs keep their
//            sender's socket charge up to the host's ip_rcv, so TCP small queues
//            (tcp_limit_output_bytes) bound what bob's sender keeps queued below its socket.
//
// It prints `name value unit` lines, ratios, the load average, and a verdict per target; it
// never fails on a figure.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_support.h"
#include "bench/bare_ifb.h"
#include "bench/bench_testbed.h"
#include "bench/budget.h"
#include "bench/request_response.h"
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

constexpr const char* kHostIp = "10.0.1.1";  // uplink0: where the peer's downloads go
constexpr const char* kDefaultClass = "4e44:fffe";
// The cost part's uplink_rate_in: the default class borrows up to it, far above what one veth
// flow reaches here, so HTB's cap never limits the flow whose cost is measured.
constexpr const char* kCostUplinkRateIn = "100gbit";
// The latency part: the upstream link (the peer's tbf) and netd's cap a little below it.
constexpr const char* kLinkRate = "500mbit";
constexpr const char* kLinkQueue = "2mb";
constexpr const char* kUplinkRateIn = "480mbit";
constexpr double kUplinkRateInBps = 480e6;
constexpr double kLinkBps = 500e6;
constexpr uint16_t kEchoPort = 5301;
constexpr double kLatencyTarget = 2.0;  // loaded / unloaded median, with download shaping

struct Args {
  int seconds = 240;  // the whole run, set-up included
  int accuracy_seconds = 3;
  int cost_seconds = 3;
  int latency_seconds = 3;
  int slices = 4096;
  bool accuracy = true;
  bool cost = true;
  bool latency = true;
  bool cubic = true;
  bool cleanup = false;
};

constexpr size_t kMinRounds = 3;
constexpr double kReserveSeconds = 8;  // the tear-down of the 4096-slice testbeds

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void note_load(const std::string& part, const char* when) {
  print_note(part + ": load average " + bench::loadavg() + " (" + when + ")");
}

// The congestion control of the peer's sockets towards the host (its iperf3 server sending
// downloads), by the route's congctl; false after a note.
bool set_sender_congestion(const Testbed& bed, const std::string& algorithm) {
  auto r = bed.in_peer({"ip", "route", "replace", std::string(kHostIp) + "/32", "dev", "peer0", "congctl", algorithm});
  if (!r.ok()) print_note("peer route congctl " + algorithm + ": " + r.describe());
  return r.ok();
}

// One download: `iperf3 -c -R` as uid, the sender's congestion control checked.
netd::Result<bench::IperfReport> download(const bench::Launcher& launcher, Command client, int seconds,
                                          const std::string& congestion) {
  client.argv.push_back("-R");
  auto report = iperf_run(launcher, std::move(client), seconds, true);
  if (report.ok() && !congestion.empty() && report->sender_congestion != congestion)
    return netd::make_error(EPROTO, "the sender used " + report->sender_congestion + ", not " + congestion);
  return report;
}

std::string ifb_of(const Testbed& bed) {
  auto links = netd::testing::json_of(bed.root({"ip", "-j", "link", "show", "dev", "uplink0"}).out);
  if (!links.is_array() || links.empty()) return "";
  return "netdi" + std::to_string(links[0].value("ifindex", 0));
}

// The IFB devices in the host netns, HTB classes on the IFB, and tcx programs on uplink0 (as
// bpftool's link list says: type 11 is tcx): what download shaping set up.
std::string ingress_state(const Testbed& bed) {
  auto ifbs = netd::testing::json_of(bed.root({"ip", "-j", "link", "show", "type", "ifb"}).out);
  const size_t n_ifbs = ifbs.is_array() ? ifbs.size() : 0;
  std::string classes = bed.root({"tc", "class", "show", "dev", ifb_of(bed)}).out;
  size_t n_classes = 0;
  for (size_t at = classes.find("class htb"); at != std::string::npos; at = classes.find("class htb", at + 1))
    ++n_classes;
  auto entries = netd::testing::json_of(
      bed.root({"bpftool", "-j", "map", "dump", "pinned", bed.bpffs() + "/netd/shaping/classes_in"}).out);
  return std::to_string(n_ifbs) + " IFB, " + std::to_string(n_ifbs ? n_classes : 0) + " HTB classes on it, " +
         std::to_string(entries.is_array() ? entries.size() : 0) + " classes_in map entries";
}

// ---------------------------------------------------------------------------------------------
// accuracy

struct AccuracyVariant {
  std::string rate_label, congestion;
  uid_t uid;
  double bps;
  std::vector<double> runs;  // goodput, bit/s
  std::string name() const { return rate_label + "." + congestion; }
};

void run_accuracy(const Args& args, bench::Budget& budget) {
  TestbedOptions options;
  options.extra_alice = "rate_in = \"10mbit\"\n";
  options.extra_bob = "rate_in = \"100mbit\"\n" + extra_slices(9, 1, "rate_in = \"1gbit\"\n");
  double start_ms = 0;
  auto bed = start_shaping_testbed("shape_in_bench accuracy", options, &start_ms);
  if (!bed) return print_note("accuracy: skipped: no testbed");
  auto launcher = bench::testbed_launcher(*bed);
  if (!launcher.ok()) return print_note("accuracy: skipped: " + launcher.error().message);
  auto sink = start_sink(*launcher, bed->peer(), "accuracy");
  if (!sink) return;
  print_note("accuracy: " + ingress_state(*bed) + " (" + ifb_of(*bed) + ")");

  std::vector<AccuracyVariant> variants;
  for (const char* cc : {"bbr", "cubic"}) {
    if (std::string(cc) == "cubic" && !args.cubic) continue;
    variants.push_back({"10mbit", cc, kAlice, 10e6, {}});
    variants.push_back({"100mbit", cc, kBob, 100e6, {}});
    variants.push_back({"1gbit", cc, kExtraUidBase + 9, 1e9, {}});
  }
  auto fewest = [&] {
    size_t n = SIZE_MAX;
    for (const auto& v : variants) n = std::min(n, v.runs.size());
    return n;
  };
  note_load("accuracy", "before");
  bench::Phase phase("accuracy", budget.share("accuracy"), kMinRounds);
  for (size_t round = 0; phase.more(fewest()); ++round) {
    for (size_t k = 0; k < variants.size() && !bench::interrupted(); ++k) {
      AccuracyVariant& v = variants[(round + k) % variants.size()];
      if (!set_sender_congestion(*bed, v.congestion)) return;
      auto report = download(*launcher, iperf_client("iperf3 -c -R (" + v.name() + ")", v.uid),
                             args.accuracy_seconds, v.congestion);
      if (!report.ok()) {
        if (!bench::interrupted())
          print_note("accuracy: " + v.name() + " run " + std::to_string(round) + ": " + report.error().message);
        continue;
      }
      v.runs.push_back(report->bits_per_second);
    }
  }
  if (bench::interrupted()) return print_note("accuracy: interrupted");
  phase.report(fewest());
  note_load("accuracy", "after");
  std::string runs;
  for (const auto& v : variants) runs += " " + v.name() + ":" + series_text(v.runs, 1e6);
  print_note("accuracy: rounds of " + std::to_string(args.accuracy_seconds) +
             " s iperf3 -R runs (-O 1), one per rate and sender; Mbit/s" + runs);
  for (const auto& v : variants)
    bench::print_accuracy("shape_in.accuracy." + v.name(), "shape_in.accuracy " + v.rate_label + " (" +
                          v.congestion + " sender)", v.runs, v.bps);
}

// ---------------------------------------------------------------------------------------------
// cost

// Median, lowest and highest of a series, as figures `<name>.median/.min/.max`.
void print_range(const std::string& name, const std::vector<double>& v, double scale, const char* unit) {
  if (v.empty()) return;
  auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  print_figure(name + ".median", stats_of(v).median / scale, unit);
  print_figure(name + ".min", *lo / scale, unit);
  print_figure(name + ".max", *hi / scale, unit);
}

void run_cost(const Args& args, bench::Budget& budget) {
  // Native: a veth pair between two fresh namespaces, the testbed's uplink0 addresses, no netd.
  auto native = bench::make_native_pair();
  if (!native.ok()) return print_note("cost: skipped: no native veth pair: " + native.error().message);
  UniqueFd native_ns(open(native->host.path().c_str(), O_RDONLY | O_CLOEXEC));
  // The floor: another such pair whose uplink0 redirects everything into an IFB with one HTB
  // class (bare_ifb.h), the hop download shaping is made of, without netd.
  auto floor_pair = bench::make_native_pair();
  if (!floor_pair.ok()) return print_note("cost: skipped: no second native veth pair: " + floor_pair.error().message);
  auto bare = bench::make_bare_ifb(floor_pair->host, "uplink0", kCostUplinkRateIn);
  if (!bare.ok()) return print_note("cost: skipped: no bare IFB: " + bare.error().message);
  UniqueFd floor_ns(open(floor_pair->host.path().c_str(), O_RDONLY | O_CLOEXEC));

  // The same slices in both testbeds: alice, bob and slices-2 more; with rate_in 1mbit each
  // (download shaping on) or with none (off: no IFB, no redirect).
  const std::string n = std::to_string(args.slices);
  TestbedOptions off_options, on_options;
  off_options.extra_netd = on_options.extra_netd = "uplink_rate_in = \"" + std::string(kCostUplinkRateIn) + "\"\n";
  off_options.extra_bob = extra_slices(9, args.slices - 2, "");
  on_options.extra_alice = "rate_in = \"1mbit\"\n";
  on_options.extra_bob = "rate_in = \"1mbit\"\n" + extra_slices(9, args.slices - 2, "rate_in = \"1mbit\"\n");
  double off_start_ms = 0, on_start_ms = 0;
  auto off = start_shaping_testbed("shape_in_bench cost (off)", off_options, &off_start_ms);
  if (!off) return print_note("cost: skipped: no testbed without download shaping");
  auto on = start_shaping_testbed("shape_in_bench cost (" + n + " slices with rate_in)", on_options, &on_start_ms);
  if (!on) return print_note("cost: skipped: no testbed with download shaping");
  print_figure("shape_in.start.off", off_start_ms, "ms");
  print_figure("shape_in.start.slices" + n, on_start_ms, "ms");
  print_note("cost: without download shaping: " + ingress_state(*off) + "; with " + n + " slices: " +
             ingress_state(*on) + " (the slices', plus top and default class / mark 0)");

  auto off_launcher = bench::testbed_launcher(*off);
  auto on_launcher = bench::testbed_launcher(*on);
  if (!off_launcher.ok() || !on_launcher.ok()) return print_note("cost: skipped: no launcher");
  auto sink_native = start_sink(*off_launcher, native->peer, "cost native");
  auto sink_floor = start_sink(*off_launcher, floor_pair->peer, "cost native_ifb");
  auto sink_off = start_sink(*off_launcher, off->peer(), "cost off");
  auto sink_on = start_sink(*on_launcher, on->peer(), "cost on");
  if (!sink_native || !sink_floor || !sink_off || !sink_on) return;

  // Downloads: -R on every client.
  std::vector<IperfVariant> variants;
  variants.push_back({"native", &*off_launcher, iperf_client("iperf3 -c -R (native)", kCarol, native_ns.get(), false)});
  variants.push_back({"off", &*off_launcher, iperf_client("iperf3 -c -R (off)", kCarol)});
  variants.push_back({"slices" + n, &*on_launcher, iperf_client("iperf3 -c -R (" + n + " slices)", kCarol)});
  variants.push_back(
      {"native_ifb", &*off_launcher, iperf_client("iperf3 -c -R (native_ifb)", kCarol, floor_ns.get(), false)});
  for (auto& v : variants) v.client.argv.push_back("-R");
  bench::probe_variants("cost", variants);
  if (!variants[1].usable || !variants[2].usable) return;
  const std::string ifb = ifb_of(*on);
  const double default_before = class_bytes(*on, ifb, kDefaultClass);

  std::vector<double> pair_ratios;
  note_load("cost", "before");
  bench::Phase phase("cost", budget.share("cost"), kMinRounds);
  // Two pairs per round: slices/off (the target) and native_ifb/native (the floor).
  std::vector<std::vector<double>> ratios;
  if (!bench::run_iperf_rounds("cost", phase, variants, args.cost_seconds, true, {{1, 2}, {0, 3}}, &ratios))
    return print_note("cost: interrupted");
  pair_ratios = ratios[0];
  const std::vector<double>& floor_ratios = ratios[1];
  phase.report(bench::fewest_runs(variants));
  note_load("cost", "after");
  print_note("cost: rounds of " + std::to_string(args.cost_seconds) +
             " s iperf3 -R runs (-O 1) as carol (no slice), order rotating; " + bench::iperf_runs_text(variants));
  print_note("cost: the IFB's default class " + std::string(kDefaultClass) + " carried " +
             fixed((class_bytes(*on, ifb, kDefaultClass) - default_before) / 1e9, 1) + " GB");

  for (const auto& v : variants) {
    print_range("shape_in.cost." + v.name, v.bps, 1e9, "Gbit/s");
    bench::print_samples("shape_in.cost." + v.name, v.bps.size());
    print_range("shape_in.cost." + v.name + ".cpu_per_gbyte", v.cpu_per_gbyte, 1, "s");
  }
  if (variants[1].bps.empty() || variants[2].bps.empty()) return;
  const double off_median = stats_of(variants[1].bps).median, on_median = stats_of(variants[2].bps).median;
  // Each round's two runs are neighbours in time: what others do to this machine hits both.
  const double paired = pair_ratios.empty() ? on_median / off_median : stats_of(pair_ratios).median;
  print_range("shape_in.cost.ratio_paired", pair_ratios, 1, "x");
  print_figure("shape_in.cost.ratio_median", on_median / off_median, "x");
  if (!variants[1].cpu_per_gbyte.empty() && !variants[2].cpu_per_gbyte.empty())
    print_figure("shape_in.cost.ratio_efficiency",
                 stats_of(variants[1].cpu_per_gbyte).median / stats_of(variants[2].cpu_per_gbyte).median, "x");
  if (!variants[0].bps.empty()) {
    print_figure("shape_in.cost.ratio_off_native", off_median / stats_of(variants[0].bps).median, "x");
    print_figure("shape_in.cost.ratio_on_native", on_median / stats_of(variants[0].bps).median, "x");
  }
  // The floor: no netd on either side, only the IFB hop; where it is below 0.95 already, no
  // download shaping through an IFB meets the target on this machine.
  print_range("shape_in.cost.ratio_paired.floor", floor_ratios, 1, "x");
  if (!variants[0].cpu_per_gbyte.empty() && !variants[3].cpu_per_gbyte.empty())
    print_figure("shape_in.cost.ratio_efficiency.floor",
                 stats_of(variants[0].cpu_per_gbyte).median / stats_of(variants[3].cpu_per_gbyte).median, "x");
  if (!floor_ratios.empty())
    print_note("cost: floor = native_ifb / native, the IFB hop alone (bare_ifb.h): " +
               fixed(stats_of(floor_ratios).median) + " x paired median; netd's slices" + n +
               " / off against it: " + fixed(paired / stats_of(floor_ratios).median) + " x");
  print_verdict("shape_in.cost unshaped download with " + n + " slices shaped on the way in >= 0.95x without "
                "download shaping (paired median)", paired >= 0.95, fixed(paired) + " x");
}

// ---------------------------------------------------------------------------------------------
// latency

// Bytes the peer's upstream qdisc (tbf on peer0) has sent.
double link_sent_bytes(const Testbed& bed) {
  std::string text = bed.in_peer({"tc", "-s", "qdisc", "show", "dev", "peer0"}).out;
  size_t at = text.find("Sent ");
  return at == std::string::npos ? 0 : std::strtod(text.c_str() + at + 5, nullptr);
}

struct LatencyBed {
  std::string name;  // "on" / "off"
  std::optional<Testbed> bed;
  std::optional<bench::Launcher> launcher;
  std::optional<RunningChild> sink, echo;
};

struct LatencyVariant {
  std::string name;
  LatencyBed* bed;
  bool loaded;
  std::vector<double> us;             // every transaction of every run
  std::vector<double> round_medians;  // per run
  std::vector<double> bob_bps;        // bob's goodput while loaded
};

// One run: alice's transactions, with bob downloading beside her if loaded. False after a note.
bool latency_run(const Args& args, LatencyVariant& v) {
  Testbed& bed = *v.bed->bed;
  std::optional<netd::Result<bench::IperfReport>> bob;
  std::thread bob_thread;
  if (v.loaded) {
    // bob's run: 1 s left out (-O 1), then alice's run and 1 s of margin.
    const int bob_seconds = args.latency_seconds + 1;
    const double sent_before = link_sent_bytes(bed);
    bob_thread = std::thread([&] {
      bob = download(*v.bed->launcher, iperf_client("iperf3 -c -R (bob)", kBob), bob_seconds, "cubic");
    });
    // Under way once 20 MB went through the link (~0.35 s at its rate; on a link with a RTT of
    // well under a ms cubic's slow start is long over by then, and its queue has formed).
    auto t0 = Clock::now();
    while (link_sent_bytes(bed) - sent_before < 20e6 && seconds_since(t0) < 1 && !bench::interrupted())
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto us = bench::interrupted() ? std::nullopt
                                 : bench::request_response({bed.host().path(), bed.cgroup() + "/cgroup.procs", kAlice},
                                                           bench::kPeerIp, kEchoPort, args.latency_seconds,
                                                           "latency: alice's client");
  if (bob_thread.joinable()) bob_thread.join();
  if (!us) return false;
  if (v.loaded) {
    if (!bob || !bob->ok()) {
      if (!bench::interrupted())
        print_note("latency: " + v.name + ": bob's download: " + (bob ? bob->error().message : "did not run"));
      return false;
    }
    v.bob_bps.push_back((*bob)->bits_per_second);
  }
  v.round_medians.push_back(stats_of(*us).median);
  v.us.insert(v.us.end(), us->begin(), us->end());
  return true;
}

std::optional<LatencyBed> latency_bed(const std::string& name, const TestbedOptions& options) {
  double start_ms = 0;
  auto started = start_shaping_testbed("shape_in_bench latency (" + name + ")", options, &start_ms);
  if (!started) return std::nullopt;
  std::optional<LatencyBed> made(std::in_place);  // returned in place: a Testbed is not assignable
  LatencyBed& b = *made;
  b.name = name;
  b.bed.emplace(std::move(*started));
  auto launcher = bench::testbed_launcher(*b.bed);
  if (!launcher.ok()) return std::nullopt;
  b.launcher.emplace(std::move(launcher).value());
  auto tbf = b.bed->in_peer({"tc", "qdisc", "replace", "dev", "peer0", "root", "tbf", "rate", kLinkRate, "burst",
                             "128kb", "limit", kLinkQueue});
  if (!tbf.ok()) {
    print_note("latency: the peer's tbf: " + tbf.describe());
    return std::nullopt;
  }
  if (!set_sender_congestion(*b.bed, "cubic")) return std::nullopt;
  b.sink = start_sink(*b.launcher, b.bed->peer(), "latency " + name);
  b.echo = bench::start_echo(b.bed->peer(), bench::kPeerIp, kEchoPort);
  if (!b.sink || !b.echo || !bench::wait_listening(b.bed->peer(), kEchoPort)) return std::nullopt;
  return made;
}

void print_latency(const LatencyVariant& v) {
  const std::string name = "shape_in.latency." + v.name;
  bench::Stats s = stats_of(v.us);
  print_figure(name + ".median", s.median, "us");
  print_figure(name + ".p90", s.p90, "us");
  print_figure(name + ".p99", s.p99, "us");
  bench::print_samples(name, s.n);
  if (!v.round_medians.empty()) {
    auto [lo, hi] = std::minmax_element(v.round_medians.begin(), v.round_medians.end());
    print_figure(name + ".run_median_min", *lo, "us");
    print_figure(name + ".run_median_max", *hi, "us");
  }
  if (!v.bob_bps.empty()) print_range(name + ".bob", v.bob_bps, 1e6, "Mbit/s");
}

void run_latency(const Args& args, bench::Budget& budget) {
  TestbedOptions on_options, off_options;
  on_options.extra_netd = off_options.extra_netd = "uplink_rate_in = \"" + std::string(kUplinkRateIn) + "\"\n";
  on_options.extra_alice = "rate_in = \"20mbit\"\n";
  on_options.extra_bob = "rate_in = \"50mbit\"\nceil_in = \"" + std::string(kUplinkRateIn) + "\"\n";
  auto on = latency_bed("on", on_options);
  auto off = on ? latency_bed("off", off_options) : std::nullopt;
  if (!on || !off) return print_note("latency: skipped: no testbeds");
  print_note("latency: with download shaping: " + ingress_state(*on->bed) + "; without: " + ingress_state(*off->bed) +
             "; the peer's peer0: tbf rate " + kLinkRate + " limit " + kLinkQueue + ", senders cubic");

  std::vector<LatencyVariant> variants = {{"on.unloaded", &*on, false, {}, {}, {}},
                                          {"on.loaded", &*on, true, {}, {}, {}},
                                          {"off.unloaded", &*off, false, {}, {}, {}},
                                          {"off.loaded", &*off, true, {}, {}, {}}};
  auto fewest = [&] {
    size_t n = SIZE_MAX;
    for (const auto& v : variants) n = std::min(n, v.round_medians.size());
    return n;
  };
  note_load("latency", "before");
  bench::Phase phase("latency", budget.share("latency"), kMinRounds);
  for (size_t round = 0; phase.more(fewest()); ++round)
    for (size_t k = 0; k < variants.size() && !bench::interrupted(); ++k)
      (void)latency_run(args, variants[(round + k) % variants.size()]);
  if (bench::interrupted()) return print_note("latency: interrupted");
  phase.report(fewest());
  note_load("latency", "after");
  std::string runs;
  for (const auto& v : variants) runs += " " + v.name + ":" + series_text(v.round_medians, 1);
  print_note("latency: rounds of " + std::to_string(args.latency_seconds) + " s of alice's " +
             std::to_string(bench::kRrMessage) + " B request/response, order rotating; per-run medians, us" + runs);
  for (const auto& v : variants) print_latency(v);
  auto ratio = [&](size_t loaded, size_t unloaded, double bench::Stats::*p) {
    return stats_of(variants[loaded].us).*p / stats_of(variants[unloaded].us).*p;
  };
  if (fewest() == 0) return;
  const double on_ratio = ratio(1, 0, &bench::Stats::median), off_ratio = ratio(3, 2, &bench::Stats::median);
  print_figure("shape_in.latency.on.ratio_loaded_unloaded", on_ratio, "x");
  print_figure("shape_in.latency.on.ratio_loaded_unloaded_p99", ratio(1, 0, &bench::Stats::p99), "x");
  print_figure("shape_in.latency.off.ratio_loaded_unloaded", off_ratio, "x");
  print_figure("shape_in.latency.off.ratio_loaded_unloaded_p99", ratio(3, 2, &bench::Stats::p99), "x");
  print_figure("shape_in.latency.ratio_loaded_off_on", stats_of(variants[3].us).median / stats_of(variants[1].us).median,
               "x");
  // Not targets: what the redirect through the IFB adds to an unloaded round trip, and alice
  // loaded with download shaping against alice unloaded without it.
  print_figure("shape_in.latency.ratio_unloaded_on_off", ratio(0, 2, &bench::Stats::median), "x");
  print_figure("shape_in.latency.ratio_on_loaded_off_unloaded", ratio(1, 2, &bench::Stats::median), "x");
  print_note("latency: bob's goodput allows at most " + fixed(kUplinkRateInBps * bench::kGoodputPerRate / 1e6, 1) +
             " Mbit/s with download shaping (uplink_rate_in), " + fixed(kLinkBps * bench::kGoodputPerRate / 1e6, 1) +
             " without (the peer's link)");
  print_verdict("shape_in.latency alice's request/response median while bob downloads <= 2x unloaded, with "
                "download shaping", on_ratio <= kLatencyTarget, fixed(on_ratio) + " x (without: " +
                fixed(off_ratio) + " x)");
}

// ---------------------------------------------------------------------------------------------

void usage() {
  std::fputs(
      "usage: shape_in_bench [--seconds N] [--accuracy-seconds N] [--cost-seconds N] [--latency-seconds N]\n"
      "                      [--slices N] [--no-accuracy] [--no-cubic] [--no-cost] [--no-latency] [--cleanup]\n"
      "  --seconds N           the whole run, set-up included, shared by the parts that run\n"
      "                        (accuracy 2 : cost 1 : latency 1.3); default 240. Each part runs\n"
      "                        rounds until its share is spent, but at least 3 (up to twice its share)\n"
      "  --accuracy-seconds N  length of each accuracy download (plus 1 s omitted); default 3\n"
      "  --cost-seconds N      length of each cost download (plus 1 s omitted); default 3\n"
      "  --latency-seconds N   length of each request/response run; default 3\n"
      "  --slices N            slices with rate_in in the cost part, 2..8000; default 4096\n"
      "  --no-cubic            accuracy with the bbr sender only\n"
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
                           {"--latency-seconds", &a.latency_seconds},
                           {"--slices", &a.slices, 8000}},
                          {{"--no-accuracy", &a.accuracy},
                           {"--no-cubic", &a.cubic},
                           {"--no-cost", &a.cost},
                           {"--no-latency", &a.latency},
                           {"--cleanup", &a.cleanup, true}}) ||
      a.slices < 2)
    return std::nullopt;
  return a;
}

// Everything the run makes lives in this scope: by its end it is torn down, also when a
// signal cut the loops short.
int run(const Args& args) {
  if (access(kIperf3, X_OK) != 0) {
    print_note("shape_in_bench: skipped: " + std::string(kIperf3) + " is not installed");
    return 0;
  }
  bench::Budget budget(args.seconds,
                       {{"accuracy", args.accuracy ? (args.cubic ? 2.0 : 1.0) : 0.0},
                        {"cost", args.cost ? 1.0 : 0.0},
                        {"latency", args.latency ? 1.3 : 0.0}},
                       kReserveSeconds);
  if (args.accuracy && !bench::interrupted()) run_accuracy(args, budget);
  if (args.cost && !bench::interrupted()) run_cost(args, budget);
  if (args.latency && !bench::interrupted()) run_latency(args, budget);
  print_note("shape_in_bench: " + fixed(args.seconds - budget.left(), 1) + " s of a " +
             std::to_string(args.seconds) + " s budget, set-up included; tearing down");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = parse_args(argc, argv);
  if (auto done = bench::begin({"shape_in_bench", "namespaces, cgroups, netd, tc", usage, args.has_value(),
                                args && args->cleanup}))
    return *done;
  return bench::finish(run(*args));
}
