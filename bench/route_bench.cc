// route_bench: the routes feature's figures (bench/README.md, Targets rows "route add + del, end
// to end" and "route add in the daemon"), each against its baselines measured in the same run.
//
//  cli  `sliceip route add|del 198.51.100.0/24 via 10.0.2.2 dev uplink1` as alice, against
//       root `ip route add|del ... table 500` and `sudo -n ip route add|del ... table 500` as a
//       NOPASSWD user, plus `/bin/true` twice (the bare cost of two process starts). One figure
//       is the wall time of the add run plus the del run.
//  lib  netd::Client as alice calling io.netd.Routes.Add + io.netd.Routes.Delete in a loop
//       (no process start), against the same client loop talking to bare_broker (one raw
//       netlink route op per request, the floor) and to an echo server (AF_UNIX round trip).
//
// Variants run interleaved (cli: one add+del pair of each per round, rotating the order; lib:
// rounds of blocks) so that drift on this shared machine hits all of them alike. It prints
// `name value unit` lines, ratios, and a verdict per target; it never fails on a figure.
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
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
#include <vector>

#include "bench/bench_support.h"
#include "bench/bench_testbed.h"
#include "bench/budget.h"
#include "lib/client/client.h"
#include "tests/fixtures/files.h"
#include "tests/integration/common/testbed.h"

namespace {

using netd::Result;
using netd::Status;
using netd::testing::kAlice;
using netd::testing::Testbed;
using Clock = std::chrono::steady_clock;
using bench::Command;
using bench::fixed;
using bench::print_figure;
using bench::print_note;
using bench::print_verdict;
using bench::Stats;
using bench::stats_of;

constexpr const char* kSudoUser = "netd-bench";
constexpr const char* kSudoersDropIn = "/etc/sudoers.d/netd-bench";
constexpr const char* kIp = "/usr/sbin/ip";
constexpr const char* kSudo = "/usr/bin/sudo";
constexpr const char* kTrue = "/bin/true";

// The route every variant adds and deletes. netd puts alice's into her table (10007); root's
// `ip` and sudo use table 500, the broker 501: separate tables, so no variant sees another's.
constexpr const char* kDst = "198.51.100.0/24";
constexpr const char* kVia = "10.0.2.2";
constexpr const char* kDev = "uplink1";
constexpr const char* kIpTable = "500";
constexpr const char* kBrokerTable = "501";
// Held in alice's table during the "netd_resident" series, so her table never empties and
// netd does not add/remove her fwmark rule on every add/del (see the README).
constexpr const char* kResidentDst = "198.51.100.128/25";

struct Args {
  int seconds = 75;  // the whole run, set-up included (bench/run-all gives it this)
  int lib_rounds = 20;
  bool cli = true;
  bool lib = true;
  bool sudo = true;
  bool syscall_filter = true;
  bool cleanup = false;
};

// The fewest samples per variant a phase takes, however long that takes (up to twice its share):
// fewer and the median (let alone p99) means little.
constexpr size_t kCliMinRounds = 30;   // add+del pairs
constexpr size_t kLibMinPairs = 1000;  // calls of each kind

// ---------------------------------------------------------------------------------------------
// Process runs for the end-to-end figures: bench::Launcher (bench_support.h) starts each the same
// way: vfork → join the testbed cgroup → setns into the host netns → (for alice and the sudo
// user) setgroups/setresgid/setresuid → execve of the program itself. The Testbed's own run_as()
// goes through setpriv, i.e. a second execve (~1.7 ms here) that root's `ip` would not pay unless
// also wrapped, and a full fork() of this process (~1 ms here); a constant added to both sides
// would flatter the sliceip/ip ratio. Dropping the uid costs three syscalls, the same for
// sliceip and sudo and absent for root ip: what a user's shell pays to start each of them.
// Output goes to /dev/null; only the exit status is checked.

// A NOPASSWD sudoers drop-in for the sudo baseline, removed by the destructor. The system user
// stays (creating one per run would churn /etc/passwd); README says so.
class SudoersDropIn {
 public:
  static Result<SudoersDropIn> install() {
    if (access(kSudo, X_OK) != 0) return netd::make_error(ENOENT, std::string(kSudo) + " is not installed");
    if (getpwnam(kSudoUser) == nullptr) {
      auto r = netd::testing::run_in(nullptr, {"useradd", "--system", "--no-create-home", "--shell",
                                               "/usr/sbin/nologin", kSudoUser});
      if (!r.ok()) return netd::make_error(EIO, "useradd " + std::string(kSudoUser) + ": " + r.describe());
    }
    // sudo ignores sudoers.d files whose names contain a dot: the temp name is inert.
    std::string tmp = std::string(kSudoersDropIn) + ".tmp";
    std::string text = std::string(kSudoUser) + " ALL=(root) NOPASSWD: /usr/sbin/ip, /sbin/ip, /bin/ip\n";
    unlink(tmp.c_str());  // a leftover of a killed run
    netd::UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0440));
    if (!fd.valid()) return netd::errno_error("creating " + tmp);
    if (write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      unlink(tmp.c_str());
      return netd::errno_error("writing " + tmp);
    }
    fd.reset();
    auto check = netd::testing::run_in(nullptr, {"visudo", "-cf", tmp});
    if (!check.ok()) {
      unlink(tmp.c_str());
      return netd::make_error(EINVAL, "visudo -cf refused the drop-in: " + check.describe());
    }
    if (rename(tmp.c_str(), kSudoersDropIn) != 0) {
      unlink(tmp.c_str());
      return netd::errno_error(std::string("rename to ") + kSudoersDropIn);
    }
    SudoersDropIn d;
    d.installed_ = true;
    return d;
  }
  SudoersDropIn(SudoersDropIn&& o) noexcept : installed_(std::exchange(o.installed_, false)) {}
  SudoersDropIn& operator=(SudoersDropIn&&) = delete;
  ~SudoersDropIn() {
    if (installed_) unlink(kSudoersDropIn);
  }

 private:
  SudoersDropIn() = default;
  bool installed_ = false;
};

struct CliVariant {
  std::string name;
  Command add, del;
  std::vector<double> pair_ms;
  bool usable = true;
};

void run_cli(const Testbed& bed, const Args& args, bench::Budget& budget) {
  auto launcher = bench::testbed_launcher(bed);
  if (!launcher.ok()) {
    print_note("cli: skipped: " + launcher.error().message);
    return;
  }
  const std::vector<std::string> route = {kDst, "via", kVia, "dev", kDev};
  auto with = [](std::vector<std::string> head, const std::vector<std::string>& tail,
                 std::vector<std::string> more = {}) {
    head.insert(head.end(), tail.begin(), tail.end());
    head.insert(head.end(), more.begin(), more.end());
    return head;
  };
  const std::string sliceip = netd::testing::sliceip_binary();

  std::vector<CliVariant> variants;
  variants.push_back({"true", {"true", std::nullopt, 0, {kTrue}}, {"true", std::nullopt, 0, {kTrue}}, {}});
  variants.push_back({"ip",
                      {"ip route add", std::nullopt, 0, with({kIp, "route", "add"}, route, {"table", kIpTable})},
                      {"ip route del", std::nullopt, 0, with({kIp, "route", "del"}, route, {"table", kIpTable})},
                      {}});
  variants.push_back({"sliceip",
                      {"sliceip route add", kAlice, kAlice, with({sliceip, "route", "add"}, route)},
                      {"sliceip route del", kAlice, kAlice, with({sliceip, "route", "del"}, route)},
                      {}});

  std::optional<SudoersDropIn> drop_in;
  if (args.sudo) {
    auto installed = SudoersDropIn::install();
    if (!installed.ok()) {
      print_note("cli: sudo baseline skipped: " + installed.error().message);
    } else {
      drop_in.emplace(std::move(installed).value());
      const passwd* pw = getpwnam(kSudoUser);
      uid_t uid = pw->pw_uid;
      gid_t gid = pw->pw_gid;
      variants.push_back(
          {"sudo",
           {"sudo -n ip route add", uid, gid, with({kSudo, "-n", kIp, "route", "add"}, route, {"table", kIpTable})},
           {"sudo -n ip route del", uid, gid, with({kSudo, "-n", kIp, "route", "del"}, route, {"table", kIpTable})},
           {}});
    }
  }

  // One untimed pair of each first: it proves the command works (else the variant is dropped
  // with the reason) and warms caches (binaries, libraries, sudoers, PAM).
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

  bench::Phase phase("cli", budget.share("cli"), kCliMinRounds);
  for (size_t i = 0; phase.more(fewest()); ++i) {
    for (size_t k = 0; k < variants.size() && !bench::interrupted(); ++k) {
      CliVariant& v = variants[(i + k) % variants.size()];  // rotating order within the round
      if (!v.usable) continue;
      auto t0 = Clock::now();
      int a = launcher->run(v.add);
      int d = launcher->run(v.del);
      auto t1 = Clock::now();
      if (a != 0 || d != 0) {
        if (bench::interrupted()) break;
        print_note("cli: " + v.name + " failed in round " + std::to_string(i) + " (add exit " +
                   std::to_string(a) + ", del exit " + std::to_string(d) + "); dropped");
        v.usable = false;
        continue;
      }
      v.pair_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
  }
  if (bench::interrupted()) return print_note("cli: interrupted");
  phase.report(fewest());
  print_note("cli: rounds of one add+del pair per variant; spawn path: vfork, cgroup, setns, setresuid, execve "
             "(no setpriv)");

  std::optional<Stats> ip, sliceip_stats, sudo;
  for (auto& v : variants) {
    if (v.pair_ms.empty()) continue;
    Stats s = stats_of(v.pair_ms);
    print_figure("route.cli." + v.name + ".median", s.median, "ms");
    print_figure("route.cli." + v.name + ".p99", s.p99, "ms");
    bench::print_samples("route.cli." + v.name, s.n);
    if (v.name == "ip") ip = s;
    if (v.name == "sliceip") sliceip_stats = s;
    if (v.name == "sudo") sudo = s;
  }
  if (ip && sliceip_stats) {
    double ratio = sliceip_stats->median / ip->median;
    print_figure("route.cli.ratio_sliceip_ip", ratio, "x");
    print_figure("route.cli.ratio_sliceip_ip.p99", sliceip_stats->p99 / ip->p99, "x");
    print_verdict("route.cli sliceip <= 1.1x root ip (median)", ratio <= 1.1, fixed(ratio) + " x");
  }
  if (sudo && sliceip_stats) {
    double ratio = sudo->median / sliceip_stats->median;
    print_figure("route.cli.ratio_sudo_sliceip", ratio, "x");
    print_verdict("route.cli sliceip >= 4.5x faster than sudo -n ip (median)", ratio >= 4.5, fixed(ratio) + " x");
  }
}

// ---------------------------------------------------------------------------------------------
// In-daemon loop. A forked child becomes alice (host netns, testbed cgroup, uid/gid 1001, no
// groups, no capabilities: a uid change from root to non-root clears them) and times every
// call; it streams the samples (ns, uint32) back through a pipe.

enum SeriesId { kNetdAdd, kNetdDel, kResidentAdd, kResidentDel, kBrokerAdd, kBrokerDel, kEcho, kSeriesCount };

struct LibTargets {
  std::string netd_socket, broker_socket, echo_socket;
  std::string netns_path, cgroup_procs;
};

[[noreturn]] void child_fail(const std::string& what) {
  std::fprintf(stderr, "# lib: alice's client: %s\n", what.c_str());
  std::fflush(stderr);
  _exit(1);
}

// The child's share of the budget: from `start` (taken in the parent), `seconds` long.
struct LibPlan {
  Clock::time_point start;
  double seconds;
  int rounds;
};

[[noreturn]] void lib_child(const LibTargets& t, const LibPlan& plan, int out_fd) {
  if (auto s = bench::enter_child_place(t.netns_path, t.cgroup_procs, kAlice); !s.ok()) child_fail(s.error().message);

  auto netd_client = netd::Client::connect(t.netd_socket);
  auto broker = netd::Client::connect(t.broker_socket);
  auto echo = netd::Client::connect(t.echo_socket);
  if (!netd_client.ok()) child_fail(netd_client.error().message);
  if (!broker.ok()) child_fail(broker.error().message);
  if (!echo.ok()) child_fail(echo.error().message);

  const nlohmann::json route = {{"dst", kDst}, {"gateway", kVia}, {"dev", kDev}};
  const nlohmann::json params = {{"route", route}};
  const nlohmann::json resident = {{"route", {{"dst", kResidentDst}, {"gateway", kVia}, {"dev", kDev}}}};

  std::vector<std::vector<uint32_t>> samples(kSeriesCount);

  auto timed = [&](netd::Client& c, const char* method, const nlohmann::json& p,
                   std::vector<uint32_t>* into) {
    auto t0 = Clock::now();
    auto reply = c.call(method, p);
    auto t1 = Clock::now();
    if (!reply.ok()) child_fail(std::string(method) + ": " + reply.error().message);
    if (!reply->ok()) child_fail(std::string(method) + ": " + reply->error + ": " + reply->reason());
    if (into != nullptr)
      into->push_back(static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
  };
  auto untimed = [&](netd::Client& c, const char* method, const nlohmann::json& p) { timed(c, method, p, nullptr); };

  // Blocks: 0 netd (the table empties on every delete), 1 netd with a resident route, 2 broker,
  // 3 echo (two calls per pair slot). A block runs until `until`, or for `pairs` untimed pairs.
  auto run_block = [&](int kind, Clock::time_point until, int pairs, bool record) {
    for (int i = 0; record ? Clock::now() < until : (i < pairs && Clock::now() < until); ++i) {
      switch (kind) {
        case 0:
          timed(*netd_client, "io.netd.Routes.Add", params, record ? &samples[kNetdAdd] : nullptr);
          timed(*netd_client, "io.netd.Routes.Delete", params, record ? &samples[kNetdDel] : nullptr);
          break;
        case 1:
          timed(*netd_client, "io.netd.Routes.Add", params, record ? &samples[kResidentAdd] : nullptr);
          timed(*netd_client, "io.netd.Routes.Delete", params, record ? &samples[kResidentDel] : nullptr);
          break;
        case 2:
          timed(*broker, "io.netd.Routes.Add", params, record ? &samples[kBrokerAdd] : nullptr);
          timed(*broker, "io.netd.Routes.Delete", params, record ? &samples[kBrokerDel] : nullptr);
          break;
        case 3:
          timed(*echo, "io.netd.Routes.Add", params, record ? &samples[kEcho] : nullptr);
          timed(*echo, "io.netd.Routes.Delete", params, record ? &samples[kEcho] : nullptr);
          break;
      }
    }
  };
  auto with_resident = [&](auto body) {
    untimed(*netd_client, "io.netd.Routes.Add", resident);
    body();
    untimed(*netd_client, "io.netd.Routes.Delete", resident);
  };

  // Warm-up, untimed: up to 500 pairs of each, at most 2 % of the share each.
  const auto warm_for = bench::Phase::to_duration(plan.seconds / 50);
  for (int kind = 0; kind < 4; ++kind) {
    if (kind == 1) with_resident([&] { run_block(1, Clock::now() + warm_for, 500, false); });
    else run_block(kind, Clock::now() + warm_for, 500, false);
  }
  auto fewest = [&] {
    return std::min({samples[kNetdAdd].size(), samples[kResidentAdd].size(), samples[kBrokerAdd].size(),
                     samples[kEcho].size() / 2});
  };
  bench::run_interleaved(plan.start, plan.seconds, plan.rounds, 4, kLibMinPairs, fewest,
                         [&](int kind, Clock::time_point until) {
                           if (kind == 1) with_resident([&] { run_block(1, until, 0, true); });
                           else run_block(kind, until, 0, true);
                           return true;
                         });
  _exit(bench::write_series(out_fd, samples) ? 0 : 2);
}

Result<netd::testing::ChildProcess> start_broker(const Testbed& bed, std::vector<std::string> args) {
  args.insert(args.begin(), BARE_BROKER_BINARY);
  NETD_ASSIGN_OR_RETURN(auto child, netd::testing::spawn_in(&bed.host(), args));
  if (child.read_line() != std::optional<std::string>("ready"))
    return netd::make_error(EIO, "bare_broker did not start: " + child.wait(std::chrono::seconds(1)).describe());
  return child;
}

void run_lib(const Testbed& bed, const Args& args, bench::Budget& budget) {
  LibTargets t;
  t.netd_socket = bed.socket_path();
  t.broker_socket = bed.dir() + "/broker.sock";
  t.echo_socket = bed.dir() + "/echo.sock";
  t.netns_path = bed.host().path();
  t.cgroup_procs = bed.cgroup() + "/cgroup.procs";

  auto broker = start_broker(bed, {"--socket", t.broker_socket, "--dst", kDst, "--via", kVia, "--dev", kDev,
                                   "--table", kBrokerTable});
  if (!broker.ok()) return print_note("lib: skipped: " + broker.error().message);
  auto echo = start_broker(bed, {"--socket", t.echo_socket, "--echo"});
  if (!echo.ok()) return print_note("lib: skipped: " + echo.error().message);

  size_t log_lines_before = bench::log_lines(bed);
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return print_note("lib: skipped: pipe2 failed");
  netd::UniqueFd rd(pipe_fds[0]), wr(pipe_fds[1]);
  bench::Phase phase("lib", budget.share("lib"), kLibMinPairs);
  const LibPlan plan{Clock::now(), phase.seconds(), args.lib_rounds};
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return print_note("lib: skipped: fork failed");
  if (pid == 0) {
    rd.reset();
    lib_child(t, plan, wr.get());
  }
  wr.reset();
  auto child = bench::collect_child(pid, rd.get());
  if (bench::interrupted()) return print_note("lib: interrupted");
  if (child.code != 0) return print_note("lib: alice's client failed (see above)");
  auto series = bench::read_series_us(child.out, kSeriesCount);
  if (!series) return print_note("lib: short sample stream");
  auto& us = *series;
  size_t requests = us[kNetdAdd].size() + us[kNetdDel].size() + us[kResidentAdd].size() + us[kResidentDel].size();
  size_t audit_lines = bench::log_lines(bed) - log_lines_before;
  phase.report(std::min({us[kNetdAdd].size(), us[kResidentAdd].size(), us[kBrokerAdd].size(), us[kEcho].size() / 2}));
  print_note("lib: add+del pairs in " + std::to_string(std::max(1, args.lib_rounds)) +
             " interleaved rounds of time-sized blocks; netd wrote " + std::to_string(audit_lines) +
             " audit lines to " + bed.log_path() + " (>= " + std::to_string(requests) + " timed requests)");

  struct Named {
    SeriesId id;
    const char* name;
  };
  std::vector<Stats> s(kSeriesCount);
  for (Named n : std::initializer_list<Named>{{kNetdAdd, "netd.add"},
                                              {kNetdDel, "netd.del"},
                                              {kBrokerAdd, "broker.add"},
                                              {kBrokerDel, "broker.del"},
                                              {kEcho, "echo"},
                                              {kResidentAdd, "netd_resident.add"},
                                              {kResidentDel, "netd_resident.del"}}) {
    s[n.id] = stats_of(us[n.id]);
    if (s[n.id].n == 0) continue;
    print_figure(std::string("route.lib.") + n.name + ".median", s[n.id].median, "us");
    print_figure(std::string("route.lib.") + n.name + ".p90", s[n.id].p90, "us");
    print_figure(std::string("route.lib.") + n.name + ".p99", s[n.id].p99, "us");
    bench::print_samples(std::string("route.lib.") + n.name, s[n.id].n);
  }
  if (s[kNetdAdd].n == 0 || s[kBrokerAdd].n == 0) return;
  double ratio_add = s[kNetdAdd].median / s[kBrokerAdd].median;
  double ratio_del = s[kNetdDel].median / s[kBrokerDel].median;
  print_figure("route.lib.ratio_median", ratio_add, "x");
  print_figure("route.lib.ratio_median.del", ratio_del, "x");
  print_figure("route.lib.ratio_median.resident_add", s[kResidentAdd].median / s[kBrokerAdd].median, "x");
  print_figure("route.lib.ratio_median.resident_del", s[kResidentDel].median / s[kBrokerDel].median, "x");
  print_figure("route.lib.ratio_median.broker_echo", s[kBrokerAdd].median / s[kEcho].median, "x");
  print_verdict("route.lib add median <= 2x bare broker", ratio_add <= 2.0, fixed(ratio_add) + " x");
  print_verdict("route.lib add p99 <= 150 us", s[kNetdAdd].p99 <= 150.0, fixed(s[kNetdAdd].p99, 1) + " us");
  print_note("lib: for the record, delete: median " + fixed(ratio_del) + " x the broker, p99 " +
             fixed(s[kNetdDel].p99, 1) + " us");
}

// ---------------------------------------------------------------------------------------------

void usage() {
  std::fputs(
      "usage: route_bench [--seconds N] [--lib-rounds N] [--no-sudo] [--no-cli] [--no-lib] [--no-syscall-filter]\n"
      "                   [--cleanup]\n"
      "  --seconds N     the whole run, set-up included, shared by the parts that run (cli 1 : lib 1);\n"
      "                  default 75. Each part loops until its share is spent, but takes at least\n"
      "                  30 CLI rounds / 1000 in-daemon pairs per variant (up to twice its share)\n"
      "  --lib-rounds N  interleaved rounds the in-daemon share is split into; default 20\n"
      "  --no-sudo       skip the sudo baseline (no user, no sudoers drop-in)\n"
      "  --no-cli, --no-lib  skip that part (the other gets its time)\n"
      "  --no-syscall-filter  run netd with --no-syscall-filter (compare with a run without this\n"
      "                  flag to see what netd's seccomp filter costs)\n"
      "  --cleanup       only remove what killed benchmark runs left behind, then exit\n"
      "Needs root. Prints `name value unit` lines, ratios and verdicts; never fails on a figure.\n"
      "SIGINT/SIGTERM: stops, removes everything it made, exits 128+signal.\n",
      stderr);
}

std::optional<Args> parse_args(int argc, char** argv) {
  Args a;
  if (!bench::parse_flags(argc, argv, {{"--seconds", &a.seconds, 86400}, {"--lib-rounds", &a.lib_rounds}},
                          {{"--no-sudo", &a.sudo},
                           {"--no-cli", &a.cli},
                           {"--no-lib", &a.lib},
                           {"--no-syscall-filter", &a.syscall_filter},
                           {"--cleanup", &a.cleanup, true}}))
    return std::nullopt;
  return a;
}

// Everything the run makes lives in this scope: by its end it is torn down, also when a
// signal cut the loops short.
int run(const Args& args) {
  bench::Budget budget(args.seconds, {{"cli", args.cli ? 1.0 : 0.0}, {"lib", args.lib ? 1.0 : 0.0}});
  auto options = bench::default_testbed_options();
  if (!args.syscall_filter) options.netd_args = {"--no-syscall-filter"};
  auto bed = bench::start_testbed("route_bench", options);
  if (!bed) return 1;
  if (!args.syscall_filter) print_note("route_bench: netd runs with --no-syscall-filter");
  if (args.cli && !bench::interrupted()) run_cli(*bed, args, budget);
  if (args.lib && !bench::interrupted()) run_lib(*bed, args, budget);
  print_note("route_bench: " + fixed(args.seconds - budget.left(), 1) + " s of a " + std::to_string(args.seconds) +
             " s budget, set-up included; tearing down");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = parse_args(argc, argv);
  if (auto done = bench::begin({"route_bench", "namespaces, cgroups, netd", usage, args.has_value(),
                                args && args->cleanup}))
    return *done;
  return bench::finish(run(*args));
}
