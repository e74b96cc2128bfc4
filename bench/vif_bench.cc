// vif_bench: the vifs feature's figures (bench/README.md, Targets rows "vif add + del", "vif fd
// handout" and "TCP through a slice's tun path"), each against a baseline
// measured in the same run.
//
//  cli     `vtuntap add tap --persist` + `vtuntap del tap7-0` as alice (two process runs),
//          against root `ip tuntap add dev vbtap0 mode tap` + `ip link del vbtap0`, plus
//          `/bin/true` twice (the bare cost of two process starts). Interleaved pairs.
//  attach  netd::Client as alice calling io.netd.Vifs.Attach on her persistent multi-queue tap
//          and closing the fd it gets, in a loop, against the same loop talking to bare_broker
//          --tun (open /dev/net/tun + TUNSETIFF on a root-made multi-queue tap + SCM_RIGHTS, the
//          floor) and bare_broker --echo (the AF_UNIX round trip). Interleaved blocks.
//  tput    iperf3 TCP through a tun path: alice's `vtuntap run tun --addr 10.7.0.1/30 --up --
//          tun_forwarder` in the testbed's host netns (netd's isolation on) copying packets to a
//          root-made tun in a peer netns (10.7.0.2/30), against the same forwarder between two
//          root-made tuns in a netns pair netd has never seen. Alternating runs.
//
// It prints `name value unit` lines, ratios, and a verdict per target; it never fails on a
// figure.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/bench_support.h"
#include "bench/bench_testbed.h"
#include "bench/budget.h"
#include "bench/tun_path.h"
#include "lib/client/client.h"
#include "tests/fixtures/files.h"
#include "tests/integration/common/testbed.h"

namespace {

using bench::Command;
using bench::audit_micros;
using bench::cpu_ns_of;
using bench::make_tun_in;
using bench::must;
using bench::fixed;
using bench::log_lines;
using bench::print_figure;
using bench::print_note;
using bench::print_verdict;
using bench::RunningChild;
using bench::Stats;
using bench::stats_of;
using netd::Result;
using netd::UniqueFd;
using netd::testing::kAlice;
using netd::testing::Netns;
using netd::testing::Testbed;
using Clock = std::chrono::steady_clock;

constexpr const char* kIp = "/usr/sbin/ip";
constexpr const char* kTrue = "/bin/true";
constexpr const char* kIperf3 = "/usr/bin/iperf3";

// Root's devices, all in namespaces of their own (the testbed's, or made here): names that
// cannot meet netd's tun<id>-<n> / tap<id>-<n>.
constexpr const char* kIpTap = "vbtap0";     // cli: root's `ip tuntap add/del`
constexpr const char* kBrokerTap = "vbmq0";  // attach: the bare broker's multi-queue tap
constexpr const char* kPeerTun = "vbpeer0";  // tput: the peer end of either path
constexpr const char* kHostTun = "vbtun0";   // tput: the host end of the native path
// netd names alice's (slice id 7) first tap tap7-0: alice has no other tap while cli runs.
constexpr const char* kAliceTap = "tap7-0";
constexpr const char* kHostAddr = "10.7.0.1/30";  // inside alice's netblock 10.7.0.0/24
constexpr const char* kPeerAddr = "10.7.0.2/30";
constexpr const char* kPeerIp = "10.7.0.2";

struct Args {
  int seconds = 120;  // the whole run, set-up included (bench/run-all gives it this)
  int attach_rounds = 20;
  int tput_seconds = 5;
  bool cli = true;
  bool attach = true;
  bool tput = true;
  bool cleanup = false;
};

// How the budget is shared (as weights) and the fewest samples per variant each part takes,
// however long that takes (up to twice its share): fewer and a median means little.
constexpr double kCliWeight = 1, kAttachWeight = 1, kTputWeight = 3;
constexpr size_t kCliMinRounds = 20;      // add+del pairs
constexpr size_t kAttachMinCalls = 1000;  // Attach calls
constexpr size_t kTputMinPairs = 3;       // iperf3 runs on each path

void print_netd_time(const std::string& name, const std::vector<double>& us) {
  if (us.empty()) return;
  Stats s = stats_of(us);
  print_figure(name + ".median", s.median, "us");
  print_figure(name + ".p99", s.p99, "us");
}

// ---------------------------------------------------------------------------------------------
// cli: process runs, started alike by bench::Launcher (vfork → cgroup → setns → uid → execve,
// no setpriv: bench_support.h says why). One figure is the wall time of the add run plus the
// del run; add and del are kept apart too, to show which side costs what.

struct CliVariant {
  std::string name;
  Command add, del;
  std::vector<double> pair_ms, add_ms, del_ms;
  bool usable = true;
};

void run_cli(const Testbed& bed, bench::Budget& budget) {
  auto launcher = bench::testbed_launcher(bed);
  if (!launcher.ok()) return print_note("cli: skipped: " + launcher.error().message);
  const std::string vtuntap = netd::testing::vtuntap_binary();

  std::vector<CliVariant> variants;
  variants.push_back({"true", {"true", std::nullopt, 0, {kTrue}}, {"true", std::nullopt, 0, {kTrue}}});
  variants.push_back({"ip",
                      {"ip tuntap add", std::nullopt, 0, {kIp, "tuntap", "add", "dev", kIpTap, "mode", "tap"}},
                      {"ip link del", std::nullopt, 0, {kIp, "link", "del", kIpTap}}});
  variants.push_back({"vtuntap",
                      {"vtuntap add", kAlice, kAlice, {vtuntap, "add", "tap", "--persist"}},
                      {"vtuntap del", kAlice, kAlice, {vtuntap, "del", kAliceTap}}});

  // Three untimed pairs of each: they prove the commands work (else the variant is dropped
  // with the reason) and warm caches.
  for (auto& v : variants) {
    for (int warm = 0; warm < 3 && v.usable; ++warm) {
      for (const Command* c : {&v.add, &v.del}) {
        auto [code, err] = launcher->run_capturing(*c);
        if (code != 0) {
          print_note("cli: " + v.name + " dropped: `" + c->label + "` exited " + std::to_string(code) + ": " + err);
          v.usable = false;
          break;
        }
      }
    }
  }
  std::erase_if(variants, [](const CliVariant& v) { return !v.usable; });
  auto fewest = [&] {
    size_t n = SIZE_MAX;
    for (const auto& v : variants)
      if (v.usable) n = std::min(n, v.pair_ms.size());
    return n == SIZE_MAX ? 0 : n;
  };

  auto ms = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  };
  size_t log_skip = log_lines(bed);
  bench::Phase phase("cli", budget.share("cli"), kCliMinRounds);
  for (size_t i = 0; phase.more(fewest()); ++i) {
    for (size_t k = 0; k < variants.size() && !bench::interrupted(); ++k) {
      CliVariant& v = variants[(i + k) % variants.size()];  // rotating order within the round
      if (!v.usable) continue;
      auto t0 = Clock::now();
      int a = launcher->run(v.add);
      auto t1 = Clock::now();
      int d = launcher->run(v.del);
      auto t2 = Clock::now();
      if (a != 0 || d != 0) {
        if (bench::interrupted()) break;
        print_note("cli: " + v.name + " failed in round " + std::to_string(i) + " (add exit " + std::to_string(a) +
                   ", del exit " + std::to_string(d) + "); dropped");
        v.usable = false;
        continue;
      }
      v.pair_ms.push_back(ms(t0, t2));
      v.add_ms.push_back(ms(t0, t1));
      v.del_ms.push_back(ms(t1, t2));
    }
  }
  if (bench::interrupted()) return print_note("cli: interrupted");
  phase.report(fewest());
  print_note("cli: rounds of one add+del pair per variant; spawn path: vfork, cgroup, setns, setresuid, execve "
             "(no setpriv)");

  std::optional<Stats> ip, vt;
  for (auto& v : variants) {
    if (v.pair_ms.empty()) continue;
    Stats s = stats_of(v.pair_ms);
    print_figure("vif.cli." + v.name + ".median", s.median, "ms");
    print_figure("vif.cli." + v.name + ".p99", s.p99, "ms");
    bench::print_samples("vif.cli." + v.name, s.n);
    if (v.name != "true") {
      print_figure("vif.cli." + v.name + ".add.median", stats_of(v.add_ms).median, "ms");
      print_figure("vif.cli." + v.name + ".del.median", stats_of(v.del_ms).median, "ms");
    }
    if (v.name == "ip") ip = s;
    if (v.name == "vtuntap") vt = s;
  }
  if (ip && vt) {
    double ratio = vt->median / ip->median;
    double ratio_p99 = vt->p99 / ip->p99;
    print_figure("vif.cli.ratio_vtuntap_ip", ratio, "x");
    print_figure("vif.cli.ratio_vtuntap_ip.p99", ratio_p99, "x");
    print_verdict("vif.cli vtuntap add+del <= 1.1x root ip tuntap add + ip link del (median)", ratio <= 1.1,
                  fixed(ratio) + " x");
    print_verdict("vif.cli vtuntap add+del <= 1.1x root ip (p99)", ratio_p99 <= 1.1, fixed(ratio_p99) + " x");
  }
  // Of vtuntap's figure, netd's own part (audit `us=`); the rest is the process and the client.
  print_netd_time("vif.cli.netd_add_us", audit_micros(bed, log_skip, "io.netd.Vifs.Add"));
  print_netd_time("vif.cli.netd_del_us", audit_micros(bed, log_skip, "io.netd.Vifs.Delete"));
}

// ---------------------------------------------------------------------------------------------
// attach: a forked child becomes alice (host netns, testbed cgroup, uid/gid 1001, no groups, no
// capabilities) and times each call plus the close of the fd it returned; it streams the samples
// (ns, uint32) back through a pipe.

enum AttachSeries { kNetdAttach, kBrokerAttach, kEcho, kAttachSeriesCount };

struct AttachTargets {
  std::string netd_socket, broker_socket, echo_socket;
  std::string netns_path, cgroup_procs;
};

[[noreturn]] void child_fail(const std::string& what) {
  std::fprintf(stderr, "# attach: alice's client: %s\n", what.c_str());
  std::fflush(stderr);
  _exit(1);
}

// The child's share of the budget: from `start` (taken in the parent), `seconds` long.
struct AttachPlan {
  Clock::time_point start;
  double seconds;
  int rounds;
};

[[noreturn]] void attach_child(const AttachTargets& t, const AttachPlan& plan, int out_fd) {
  if (auto s = bench::enter_child_place(t.netns_path, t.cgroup_procs, kAlice); !s.ok()) child_fail(s.error().message);

  auto netd_client = netd::Client::connect(t.netd_socket);
  auto broker = netd::Client::connect(t.broker_socket);
  auto echo = netd::Client::connect(t.echo_socket);
  if (!netd_client.ok()) child_fail(netd_client.error().message);
  if (!broker.ok()) child_fail(broker.error().message);
  if (!echo.ok()) child_fail(echo.error().message);

  // Alice's persistent multi-queue tap: every Attach adds a queue, every close removes it.
  auto added = netd_client->call("io.netd.Vifs.Add", {{"kind", "tap"}, {"persist", true}, {"multi_queue", true}});
  if (!added.ok()) child_fail("Add: " + added.error().message);
  if (!added->ok()) child_fail("Add: " + added->error + ": " + added->reason());
  const std::string name = added->parameters["vif"]["name"].get<std::string>();
  added->fds.clear();
  const nlohmann::json params = {{"name", name}};

  std::vector<std::vector<uint32_t>> samples(kAttachSeriesCount);
  auto timed = [&](netd::Client& c, const char* method, std::vector<uint32_t>* into) {
    auto t0 = Clock::now();
    auto reply = c.call(method, params);
    if (reply.ok()) reply->fds.clear();  // the close is part of the round trip
    auto t1 = Clock::now();
    if (!reply.ok()) child_fail(std::string(method) + ": " + reply.error().message);
    if (!reply->ok()) child_fail(std::string(method) + ": " + reply->error + ": " + reply->reason());
    if (into != nullptr)
      into->push_back(static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
  };
  // Checks once that the fd-passing variants do pass one fd (the broker replies on error too).
  for (auto* c : {&*netd_client, &*broker}) {
    auto reply = c->call("io.netd.Vifs.Attach", params);
    if (!reply.ok() || !reply->ok() || reply->fds.size() != 1)
      child_fail(std::string(c == &*broker ? "bare_broker" : "netd") + " Attach did not pass one fd: " +
                 (reply.ok() ? reply->error + " " + reply->reason() : reply.error().message));
  }

  // A block runs until `until` (untimed warm-up: for at most n calls too).
  auto run_block = [&](int kind, Clock::time_point until, int n, bool record) {
    for (int i = 0; Clock::now() < until && (record || i < n); ++i) {
      switch (kind) {
        case kNetdAttach:
          timed(*netd_client, "io.netd.Vifs.Attach", record ? &samples[kNetdAttach] : nullptr);
          break;
        case kBrokerAttach:
          timed(*broker, "io.netd.Vifs.Attach", record ? &samples[kBrokerAttach] : nullptr);
          break;
        case kEcho:
          timed(*echo, "io.netd.Vifs.Attach", record ? &samples[kEcho] : nullptr);
          break;
      }
    }
  };
  // Warm-up, untimed: up to 500 calls of each, at most 2 % of the share each.
  const auto warm_for = bench::Phase::to_duration(plan.seconds / 50);
  for (int kind = 0; kind < kAttachSeriesCount; ++kind) run_block(kind, Clock::now() + warm_for, 500, false);
  auto fewest = [&] {
    return std::min({samples[kNetdAttach].size(), samples[kBrokerAttach].size(), samples[kEcho].size()});
  };
  bench::run_interleaved(plan.start, plan.seconds, plan.rounds, kAttachSeriesCount, kAttachMinCalls, fewest,
                         [&](int kind, Clock::time_point until) {
                           run_block(kind, until, 0, true);
                           return true;
                         });

  auto deleted = netd_client->call("io.netd.Vifs.Delete", params);
  if (!deleted.ok() || !deleted->ok()) child_fail("Delete " + name + " failed");
  _exit(bench::write_series(out_fd, samples) ? 0 : 2);
}

Result<netd::testing::ChildProcess> start_broker(const Testbed& bed, std::vector<std::string> args) {
  args.insert(args.begin(), BARE_BROKER_BINARY);
  NETD_ASSIGN_OR_RETURN(auto child, netd::testing::spawn_in(&bed.host(), args));
  if (child.read_line() != std::optional<std::string>("ready"))
    return netd::make_error(EIO, "bare_broker did not start: " + child.wait(std::chrono::seconds(1)).describe());
  return child;
}

void run_attach(const Testbed& bed, const Args& args, bench::Budget& budget) {
  AttachTargets t;
  t.netd_socket = bed.socket_path();
  t.broker_socket = bed.dir() + "/broker.sock";
  t.echo_socket = bed.dir() + "/echo.sock";
  t.netns_path = bed.host().path();
  t.cgroup_procs = bed.cgroup() + "/cgroup.procs";

  if (auto made = must(bed.root({kIp, "tuntap", "add", "dev", kBrokerTap, "mode", "tap", "multi_queue"}),
                       "ip tuntap add dev vbmq0 mode tap multi_queue");
      !made.ok())
    return print_note("attach: skipped: " + made.error().message);
  auto broker = start_broker(bed, {"--socket", t.broker_socket, "--tun", kBrokerTap});
  if (!broker.ok()) return print_note("attach: skipped: " + broker.error().message);
  auto echo = start_broker(bed, {"--socket", t.echo_socket, "--echo"});
  if (!echo.ok()) return print_note("attach: skipped: " + echo.error().message);

  size_t log_skip = log_lines(bed);
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return print_note("attach: skipped: pipe2 failed");
  UniqueFd rd(pipe_fds[0]), wr(pipe_fds[1]);
  bench::Phase phase("attach", budget.share("attach"), kAttachMinCalls);
  const AttachPlan plan{Clock::now(), phase.seconds(), args.attach_rounds};
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return print_note("attach: skipped: fork failed");
  if (pid == 0) {
    rd.reset();
    attach_child(t, plan, wr.get());
  }
  wr.reset();
  // The child does not see our signal flag: collect_child stops it, its end of the pipe closes.
  auto child = bench::collect_child(pid, rd.get());
  (void)bed.root({kIp, "link", "del", kBrokerTap});
  if (bench::interrupted()) return print_note("attach: interrupted");
  if (child.code != 0) return print_note("attach: alice's client failed (see above)");
  auto us = bench::read_series_us(child.out, kAttachSeriesCount);
  if (!us) return print_note("attach: short sample stream");
  phase.report(std::min({(*us)[kNetdAttach].size(), (*us)[kBrokerAttach].size(), (*us)[kEcho].size()}));
  print_note("attach: " + std::to_string(std::max(1, args.attach_rounds)) +
             " interleaved rounds of time-sized blocks; each figure is the call plus the close of the fd it returned");

  std::vector<Stats> s(kAttachSeriesCount);
  const char* names[] = {"netd", "broker", "echo"};
  for (int i = 0; i < kAttachSeriesCount; ++i) {
    s[i] = stats_of((*us)[i]);
    if (s[i].n == 0) continue;
    print_figure(std::string("vif.attach.") + names[i] + ".median", s[i].median, "us");
    print_figure(std::string("vif.attach.") + names[i] + ".p90", s[i].p90, "us");
    print_figure(std::string("vif.attach.") + names[i] + ".p99", s[i].p99, "us");
    bench::print_samples(std::string("vif.attach.") + names[i], s[i].n);
  }
  if (s[kNetdAttach].n == 0 || s[kBrokerAttach].n == 0) return;
  double ratio = s[kNetdAttach].median / s[kBrokerAttach].median;
  print_figure("vif.attach.ratio_median", ratio, "x");
  print_figure("vif.attach.ratio_p99", s[kNetdAttach].p99 / s[kBrokerAttach].p99, "x");
  print_figure("vif.attach.ratio_broker_echo", s[kBrokerAttach].median / s[kEcho].median, "x");
  print_figure("vif.attach.netd.per_second", 1e6 / s[kNetdAttach].median, "1/s");
  print_verdict("vif.attach netd Attach median <= 1.5x bare broker", ratio <= 1.5, fixed(ratio) + " x");
  print_netd_time("vif.attach.netd_service_us", audit_micros(bed, log_skip, "io.netd.Vifs.Attach"));
}

// ---------------------------------------------------------------------------------------------
// tput. Two paths, the same forwarder and the same addresses, in separate namespaces:
//   netd:   testbed host netns (netd, its nft table and BPF programs), alice's tun7-0 made by
//           `vtuntap run`, client alice in the testbed cgroup (tagged)  <-- tun_forwarder -->
//           vbpeer0 in a peer netns, iperf3 server
//   native: a fresh netns, root's vbtun0 (TUNSETIFF, as `ip tuntap` and netd do), client alice
//           outside the testbed cgroup  <-- tun_forwarder -->  vbpeer0 in a fresh peer netns
// Both forwarders run as alice with the peer's fd (opened by root) inherited as fd 4.

struct TputPath {
  std::string name;
  Command client;
  pid_t forwarder = -1;
  std::vector<double> gbits;
  std::vector<double> cpu_per_gbyte;  // CPU seconds (forwarder + iperf3 client + server) per GB
  bool usable = true;
};

struct TputRun {
  double gbit = 0;
  double cpu_per_gbyte = 0;
};

// One iperf3 run through `path`: Gbit/s received and what it cost in CPU, or why it failed.
// The CPU counted is what runs in the three processes' contexts (iperf3's own rusage for client
// and server, the forwarder's schedstat): on this path that is nearly all of it, softirq
// included, since packets are injected by write(2) on the tuns.
std::pair<std::optional<TputRun>, std::string> iperf_run(const bench::Launcher& launcher, const TputPath& path,
                                                         int seconds) {
  Command client = path.client;
  client.argv.insert(client.argv.end(), {"-t", std::to_string(seconds)});
  uint64_t fwd_before = cpu_ns_of(path.forwarder);
  auto out = launcher.run_collecting(client);
  uint64_t fwd_after = cpu_ns_of(path.forwarder);
  if (out.code != 0) return {std::nullopt, "exit " + std::to_string(out.code) + ": " + out.err + out.out.substr(0, 400)};
  auto report = bench::parse_iperf3(out.out);
  if (!report.ok()) return {std::nullopt, report.error().message};
  TputRun r;
  r.gbit = report->bits_per_second / 1e9;
  double fwd_cpu = static_cast<double>(fwd_after - fwd_before) / 1e9;
  if (report->bytes > 0) r.cpu_per_gbyte = (report->cpu_seconds + fwd_cpu) / (report->bytes / 1e9);
  return {r, ""};
}

void run_tput(const Testbed& bed, const Args& args, bench::Budget& budget) {
  if (access(kIperf3, X_OK) != 0) return print_note("tput: skipped: " + std::string(kIperf3) + " is not installed");
  auto launcher = bench::testbed_launcher(bed);
  if (!launcher.ok()) return print_note("tput: skipped: " + launcher.error().message);
  auto peer_a = bench::make_netns();
  auto host_b = bench::make_netns();
  auto peer_b = bench::make_netns();
  if (!peer_a.ok() || !host_b.ok() || !peer_b.ok()) return print_note("tput: skipped: cannot create namespaces");
  UniqueFd peer_a_ns(open(peer_a->path().c_str(), O_RDONLY | O_CLOEXEC));
  UniqueFd host_b_ns(open(host_b->path().c_str(), O_RDONLY | O_CLOEXEC));
  UniqueFd peer_b_ns(open(peer_b->path().c_str(), O_RDONLY | O_CLOEXEC));
  auto peer_a_tun = make_tun_in(*peer_a, kPeerTun, kPeerAddr);
  auto host_b_tun = make_tun_in(*host_b, kHostTun, kHostAddr);
  auto peer_b_tun = make_tun_in(*peer_b, kPeerTun, kPeerAddr);
  for (auto* r : {&peer_a_tun, &host_b_tun, &peer_b_tun})
    if (!r->ok()) return print_note("tput: skipped: " + r->error().message);

  // The processes below are stopped (RunningChild) before the fds and namespaces above go.
  std::vector<RunningChild> servers;
  for (int ns : {peer_a_ns.get(), peer_b_ns.get()}) {
    Command server{"iperf3 -s", std::nullopt, 0, {kIperf3, "-s", "-B", kPeerIp}, ns, false};
    servers.emplace_back(launcher->start(server));
  }
  if (!bench::wait_listening(*peer_a) || !bench::wait_listening(*peer_b))
    return print_note("tput: skipped: iperf3 -s did not start");

  const std::string log_path = bed.dir() + "/forwarders.log";
  const std::string forwarder = TUN_FORWARDER_BINARY;
  Command fwd_netd{"vtuntap run",
                   kAlice,
                   kAlice,
                   {netd::testing::vtuntap_binary(), "run", "tun", "--addr", kHostAddr, "--up", "--", forwarder},
                   -1,
                   true,
                   {{peer_a_tun->get(), 4}}};
  Command fwd_native{"tun_forwarder", kAlice, kAlice, {forwarder}, host_b_ns.get(), false,
                     {{host_b_tun->get(), 3}, {peer_b_tun->get(), 4}}};
  auto forwarder_netd = bench::start_forwarder(*launcher, fwd_netd, log_path, "tput", "netd");
  auto forwarder_native = bench::start_forwarder(*launcher, fwd_native, log_path, "tput", "native");
  if (!forwarder_netd || !forwarder_native) return;

  const std::vector<std::string> client = {kIperf3, "-c", kPeerIp, "-J"};
  std::vector<TputPath> paths;
  paths.push_back({"netd", {"iperf3 -c (netd)", kAlice, kAlice, client, -1, true}, forwarder_netd->pid()});
  paths.push_back(
      {"native", {"iperf3 -c (native)", kAlice, kAlice, client, host_b_ns.get(), false}, forwarder_native->pid()});
  for (auto& p : paths) {  // a short untimed run of each: proves the path carries TCP
    auto [run, why] = iperf_run(*launcher, p, 1);
    if (!run) {
      print_note("tput: " + p.name + " dropped: " + why);
      p.usable = false;
    }
  }
  if (!paths[0].usable || !paths[1].usable) return;

  std::vector<double> pair_ratios;
  bench::Phase phase("tput", budget.share("tput"), kTputMinPairs);
  auto fewest = [&] { return std::min(paths[0].gbits.size(), paths[1].gbits.size()); };
  for (int i = 0; phase.more(fewest()); ++i) {
    std::optional<double> got[2];
    for (int k = 0; k < 2 && !bench::interrupted(); ++k) {
      int which = (i + k) % 2;  // alternating A/B, B/A
      auto [run, why] = iperf_run(*launcher, paths[which], args.tput_seconds);
      if (!run) {
        if (!bench::interrupted()) print_note("tput: " + paths[which].name + " run " + std::to_string(i) + ": " + why);
        continue;
      }
      got[which] = run->gbit;
      paths[which].gbits.push_back(run->gbit);
      paths[which].cpu_per_gbyte.push_back(run->cpu_per_gbyte);
    }
    if (got[0] && got[1]) pair_ratios.push_back(*got[0] / *got[1]);
  }
  std::string runs, cpu;
  for (const auto& p : paths) {
    runs += " " + p.name + ":";
    for (double g : p.gbits) runs += " " + fixed(g);
    cpu += " " + p.name + ":";
    for (double c : p.cpu_per_gbyte) cpu += " " + fixed(c);
  }
  if (bench::interrupted()) return print_note("tput: interrupted");
  phase.report(fewest());
  print_note("tput: alternating pairs of " + std::to_string(args.tput_seconds) + " s iperf3 TCP runs; Gbit/s" + runs +
             "; CPU s per GB" + cpu);
  if (paths[0].gbits.empty() || paths[1].gbits.empty()) return;
  Stats a = stats_of(paths[0].gbits), b = stats_of(paths[1].gbits);
  print_figure("vif.tput.netd.median", a.median, "Gbit/s");
  print_figure("vif.tput.native.median", b.median, "Gbit/s");
  bench::print_samples("vif.tput.netd", a.n);
  bench::print_samples("vif.tput.native", b.n);
  double ratio = a.median / b.median;
  print_figure("vif.tput.ratio_median", ratio, "x");
  if (!pair_ratios.empty()) print_figure("vif.tput.ratio_paired_median", stats_of(pair_ratios).median, "x");
  // What a GB costs in CPU does not depend on how much CPU others leave us: the steadier
  // figure on a shared machine (throughput here is CPU-bound).
  double cpu_a = stats_of(paths[0].cpu_per_gbyte).median, cpu_b = stats_of(paths[1].cpu_per_gbyte).median;
  print_figure("vif.tput.netd.cpu_per_gbyte", cpu_a, "s");
  print_figure("vif.tput.native.cpu_per_gbyte", cpu_b, "s");
  if (cpu_a > 0) print_figure("vif.tput.ratio_efficiency", cpu_b / cpu_a, "x");
  print_verdict("vif.tput netd tun path >= 0.97x native (median)", ratio >= 0.97, fixed(ratio) + " x");
}

// ---------------------------------------------------------------------------------------------

void usage() {
  std::fputs(
      "usage: vif_bench [--seconds N] [--attach-rounds N] [--tput-seconds N] [--no-cli] [--no-attach]\n"
      "                 [--no-tput] [--cleanup]\n"
      "  --seconds N        the whole run, set-up included, shared by the parts that run\n"
      "                     (cli 1 : attach 1 : tput 3); default 120. Each part loops until its share\n"
      "                     is spent, but takes at least 20 CLI rounds / 1000 Attach calls / 3 iperf3\n"
      "                     pairs per variant (up to twice its share)\n"
      "  --attach-rounds N  interleaved rounds the Attach share is split into; default 20\n"
      "  --tput-seconds N   length of each iperf3 run; default 5\n"
      "  --cleanup          only remove what killed benchmark runs left behind, then exit\n"
      "Needs root. Prints `name value unit` lines, ratios and verdicts; never fails on a figure.\n"
      "SIGINT/SIGTERM: stops, removes everything it made, exits 128+signal.\n",
      stderr);
}

std::optional<Args> parse_args(int argc, char** argv) {
  Args a;
  if (!bench::parse_flags(
          argc, argv,
          {{"--seconds", &a.seconds, 86400}, {"--attach-rounds", &a.attach_rounds}, {"--tput-seconds", &a.tput_seconds}},
          {{"--no-cli", &a.cli}, {"--no-attach", &a.attach}, {"--no-tput", &a.tput}, {"--cleanup", &a.cleanup, true}}))
    return std::nullopt;
  return a;
}

// Everything the run makes lives in this scope: by its end it is torn down, also when a
// signal cut the loops short.
int run(const Args& args) {
  bench::Budget budget(args.seconds, {{"cli", args.cli ? kCliWeight : 0},
                                      {"attach", args.attach ? kAttachWeight : 0},
                                      {"tput", args.tput ? kTputWeight : 0}});
  auto bed = bench::start_testbed("vif_bench");
  if (!bed) return 1;
  if (args.cli && !bench::interrupted()) run_cli(*bed, budget);
  if (args.attach && !bench::interrupted()) run_attach(*bed, args, budget);
  if (args.tput && !bench::interrupted()) run_tput(*bed, args, budget);
  print_note("vif_bench: " + fixed(args.seconds - budget.left(), 1) + " s of a " + std::to_string(args.seconds) +
             " s budget, set-up included; tearing down");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = parse_args(argc, argv);
  if (auto done = bench::begin({"vif_bench", "namespaces, cgroups, netd, /dev/net/tun", usage, args.has_value(),
                                args && args->cleanup}))
    return *done;
  return bench::finish(run(*args));
}
