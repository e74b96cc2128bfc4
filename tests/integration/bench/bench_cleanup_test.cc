// The benchmarks clean up after themselves: a benchmark stopped by SIGTERM or SIGINT at a given
// moment (its testbed up, or a part measuring: clients, forwarders, iperf3 servers, senders
// running) says it was interrupted, exits 128+signal and leaves none of what it made: no network
// namespace, cgroup or bpffs dir named for it (netd-t<its pid>-*), not its testbed dir, no
// process in its namespaces, not netd. One killed by SIGKILL cannot clean up; `--cleanup` (which
// every benchmark also runs at its start) removes what it left.
#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fixtures/process.h"
#include "tests/fixtures/require_root.h"
#include "tests/fixtures/test_bpffs.h"
#include "tests/fixtures/test_cgroup.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// Set-up on a loaded 2-core machine (the 4096-slice netd is not started here) stays well below.
constexpr auto kLineTimeout = 120s;

struct Case {
  const char* name;  // for the test's name
  std::vector<std::string> argv;
  std::string wait_for;  // the line (a substring of it) after which the signal is sent
  int sig = SIGTERM;
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

std::vector<std::string> names_with_prefix(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (std::string(e->d_name).rfind(prefix, 0) == 0) out.push_back(dir + "/" + e->d_name);
    closedir(d);
  }
  return out;
}

// Everything named for the benchmark with this pid: its namespaces, cgroups, bpffs dirs.
std::vector<std::string> made_by(pid_t pid) {
  const std::string prefix = "netd-t" + std::to_string(pid) + "-";
  std::vector<std::string> all;
  for (const char* dir : {"/run/netns", kCgroup2Root, kBpffsRoot})
    for (auto& name : names_with_prefix(dir, prefix)) all.push_back(std::move(name));
  return all;
}

// `ip netns list` for what the benchmark made: proof the names above are what ip shows too.
std::vector<std::string> ip_netns_names(pid_t pid) {
  auto r = run_in(nullptr, {"ip", "netns", "list"});
  std::vector<std::string> out;
  std::regex re("^(netd-t" + std::to_string(pid) + "-[0-9]+)");
  std::smatch m;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);)
    if (std::regex_search(line, m, re)) out.push_back(m[1]);
  return out;
}

std::set<ino_t> netns_inodes(const std::vector<std::string>& paths) {
  std::set<ino_t> out;
  for (const auto& p : paths) {
    struct stat st {};
    if (p.rfind("/run/netns/", 0) == 0 && stat(p.c_str(), &st) == 0) out.insert(st.st_ino);
  }
  return out;
}

// Pids of live processes in any of those network namespaces.
std::vector<pid_t> processes_in(const std::set<ino_t>& inodes) {
  std::vector<pid_t> out;
  if (DIR* d = opendir("/proc")) {
    while (dirent* e = readdir(d)) {
      char* end = nullptr;
      long pid = std::strtol(e->d_name, &end, 10);
      if (*end != '\0' || pid <= 0) continue;
      struct stat st {};
      if (stat(("/proc/" + std::string(e->d_name) + "/ns/net").c_str(), &st) == 0 && inodes.contains(st.st_ino))
        out.push_back(static_cast<pid_t>(pid));
    }
    closedir(d);
  }
  return out;
}

// Whether pid runs: not gone, not a zombie (a reparented netd may wait for a reaper a while).
bool runs(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (pid <= 0 || !std::getline(in, stat)) return false;
  size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

// What the benchmark's "testbed up" line names: its testbed dir and netd's pid.
struct Announced {
  std::string dir;
  pid_t netd = -1;
};

Announced parse_announce(const std::string& line) {
  Announced a;
  std::smatch m;
  if (std::regex_search(line, m, std::regex(R"(, dir (\S+), netd pid (\d+))"))) {
    a.dir = m[1];
    a.netd = static_cast<pid_t>(std::stol(m[2]));
  }
  return a;
}

// Reads the benchmark's lines until one holds `want`; all of them go to `seen`.
bool read_until_line(ChildProcess& p, const std::string& want, std::string& seen, std::string* matched = nullptr) {
  auto deadline = std::chrono::steady_clock::now() + kLineTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto line = p.read_line(std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now()));
    if (!line) return false;
    seen += *line + "\n";
    if (line->find(want) != std::string::npos) {
      if (matched) *matched = *line;
      return true;
    }
  }
  return false;
}

// What a benchmark run made, read while it runs (after its "testbed up" line).
struct Made {
  std::vector<std::string> objects;  // netns, cgroup, bpffs paths named for it
  std::vector<std::string> ip_netns;
  std::set<ino_t> netns;
  Announced announced;
};

// Starts the case's benchmark and reads up to its trigger line; what it made by then.
Made start_until_trigger(const Case& c, std::optional<ChildProcess>& bench, std::string& out) {
  auto spawned = spawn_in(nullptr, c.argv);
  EXPECT_TRUE(spawned.ok()) << spawned.error().message;
  if (!spawned.ok()) return {};
  bench.emplace(std::move(spawned).value());
  const pid_t pid = bench->pid();
  EXPECT_THAT(made_by(pid), ::testing::IsEmpty()) << "a new pid has nothing yet";
  Made made;
  std::string announce;
  EXPECT_TRUE(read_until_line(*bench, "testbed up:", out, &announce)) << out << bench->wait(1s).describe();
  made.announced = parse_announce(announce);
  if (c.wait_for != "testbed up:") {
    EXPECT_TRUE(read_until_line(*bench, c.wait_for, out)) << out;
  }
  made.objects = made_by(pid);
  made.ip_netns = ip_netns_names(pid);
  made.netns = netns_inodes(made.objects);
  return made;
}

// "pid: its command line" for each, for a failure's message.
std::string describe(const std::vector<pid_t>& pids) {
  std::string out;
  for (pid_t pid : pids) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    out += std::to_string(pid) + ": " + cmdline + "\n";
  }
  return out;
}

void expect_all_gone(pid_t pid, const Made& made) {
  EXPECT_THAT(made_by(pid), ::testing::IsEmpty());
  EXPECT_THAT(ip_netns_names(pid), ::testing::IsEmpty());
  auto left = processes_in(made.netns);
  EXPECT_THAT(left, ::testing::IsEmpty()) << "processes left in its namespaces:\n" << describe(left);
  struct stat st {};
  EXPECT_NE(stat(made.announced.dir.c_str(), &st), 0) << made.announced.dir << " is still there";
  EXPECT_FALSE(runs(made.announced.netd)) << "netd (pid " << made.announced.netd << ") still runs";
  EXPECT_NE(stat(("/run/netd-bench/" + std::to_string(pid)).c_str(), &st), 0) << "its run record is still there";
}

class BenchInterrupt : public ::testing::TestWithParam<Case> {};

TEST_P(BenchInterrupt, RemovesEverythingItMadeAndSaysSo) {
  NETD_REQUIRE_ROOT();
  const Case& c = GetParam();
  std::optional<ChildProcess> bench;
  std::string out;
  Made made = start_until_trigger(c, bench, out);
  ASSERT_TRUE(bench.has_value());
  const pid_t pid = bench->pid();
  // What it made while running, by name: the testbed's two namespaces at least, its cgroup and
  // bpffs dir; ip shows the same namespaces.
  EXPECT_GE(made.netns.size(), 2u) << out;
  EXPECT_EQ(made.ip_netns.size(), made.netns.size());
  EXPECT_GT(made.announced.netd, 0) << out;
  EXPECT_TRUE(runs(made.announced.netd)) << "netd runs while the benchmark does";

  ASSERT_TRUE(bench->kill(c.sig).ok());
  ProcessResult r = bench->wait(120s);
  out += r.out;
  EXPECT_EQ(r.exit_code, 128 + c.sig) << out << r.err;
  EXPECT_THAT(out, HasSubstr(std::string(": interrupted by SIG") + sigabbrev_np(c.sig))) << out;
  EXPECT_THAT(out, ::testing::Not(HasSubstr("left behind and removed now"))) << "its own clean-up missed something";
  expect_all_gone(pid, made);
}

std::vector<std::string> bench(const char* binary, std::vector<std::string> flags) {
  flags.insert(flags.begin(), binary);
  return flags;
}

INSTANTIATE_TEST_SUITE_P(
    Benchmarks, BenchInterrupt,
    ::testing::Values(
        Case{"route_testbed_up", bench(ROUTE_BENCH, {"--seconds", "5"}), "testbed up:"},
        Case{"route_lib_child_running", bench(ROUTE_BENCH, {"--seconds", "5", "--no-cli"}), "lib: measuring"},
        Case{"vif_testbed_up_sigint", bench(VIF_BENCH, {"--seconds", "5"}), "testbed up:", SIGINT},
        Case{"vif_tput_forwarders_running", bench(VIF_BENCH, {"--seconds", "5", "--no-cli", "--no-attach"}),
             "tput: measuring"},
        Case{"raw_testbed_up", bench(RAW_BENCH, {"--seconds", "5"}), "testbed up:"},
        Case{"raw_handout_clients_running", bench(RAW_BENCH, {"--seconds", "5", "--no-rx"}), "handout.c1: measuring"},
        Case{"raw_rx_senders_running", bench(RAW_BENCH, {"--seconds", "5", "--no-handout"}), "rx.steady: measuring"},
        Case{"shape_testbed_up", bench(SHAPE_BENCH, {"--seconds", "5"}), "testbed up:"},
        Case{"shape_cost_three_testbeds", bench(SHAPE_BENCH, {"--seconds", "5", "--no-accuracy", "--slices", "2"}),
             "cost: measuring"},
        Case{"shape_in_testbed_up", bench(SHAPE_IN_BENCH, {"--seconds", "5"}), "testbed up:"},
        // Both latency testbeds with the peers' tbf, the echo servers and alice's client running.
        Case{"shape_in_latency_measuring", bench(SHAPE_IN_BENCH, {"--seconds", "5", "--no-accuracy", "--no-cost"}),
             "latency: measuring", SIGINT},
        Case{"flowmon_testbed_up", bench(FLOWMON_BENCH, {"--seconds", "5"}), "testbed up:"},
        // netd-flowmon (as the monitor slice) capturing, alice's sender starting.
        Case{"flowmon_cpu_flowmon_capturing", bench(FLOWMON_BENCH, {"--seconds", "5", "--no-overrun"}),
             "cpu: netd-flowmon capturing", SIGINT},
        // softflowd under sliceip exec capturing (sliceip and softflowd in the host netns).
        Case{"flowmon_overrun_softflowd_capturing", bench(FLOWMON_BENCH, {"--seconds", "5", "--no-cpu"}),
             "overrun: softflowd capturing"},
        // Its four sides up (two testbeds with their slices' routes and vifs, the old layout's
        // namespaces, four forwarders, iperf3 and echo servers), then an iperf3 client or a UDP
        // sender running. Not at "testbed up:": it goes on making namespaces after that line.
        Case{"scale_fwd_iperf_running",
             bench(SCALE_BENCH, {"--seconds", "5", "--slices", "2", "--no-udp", "--no-rr", "--no-requests"}),
             "fwd: measuring"},
        Case{"scale_udp_sender_running", bench(SCALE_BENCH, {"--seconds", "5", "--slices", "2", "--no-fwd", "--no-rr"}),
             "udp: measuring", SIGINT},
        // Its testbed up (netd is stopped, torn down and restarted between its states later,
        // under another pid, which the announced one cannot follow).
        Case{"datapath_testbed_up", bench(DATAPATH_BENCH, {"--seconds", "5", "--no-breakdown"}), "testbed up:"}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

// SIGKILL: no clean-up runs (netd and the servers die with it, by their parent-death signal),
// its namespaces, cgroup and bpffs dir stay; the next benchmark's start, or --cleanup, removes
// them, found by its pid's record.
TEST(BenchLeftovers, CleanupRemovesWhatAKilledRunLeft) {
  NETD_REQUIRE_ROOT();
  Case c{"vif_tput_killed", bench(VIF_BENCH, {"--seconds", "5", "--no-cli", "--no-attach"}), "tput: measuring",
         SIGKILL};
  std::optional<ChildProcess> bench_process;
  std::string out;
  Made made = start_until_trigger(c, bench_process, out);
  ASSERT_TRUE(bench_process.has_value());
  const pid_t pid = bench_process->pid();
  ASSERT_TRUE(bench_process->kill(SIGKILL).ok());
  ProcessResult r = bench_process->wait(60s);
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
  EXPECT_THAT(made_by(pid), ::testing::IsSupersetOf(made.objects)) << "SIGKILL leaves them (else: test nothing)";

  ProcessResult cleanup = run_in(nullptr, {RAW_BENCH, "--cleanup"});
  EXPECT_EQ(cleanup.exit_code, 0) << cleanup.describe();
  for (const auto& ns : made.ip_netns) EXPECT_THAT(cleanup.out, HasSubstr("removed netns " + ns)) << cleanup.out;
  EXPECT_THAT(cleanup.out, HasSubstr("left by vif_bench (pid " + std::to_string(pid) + ", gone)"));
  expect_all_gone(pid, made);
}

}  // namespace
}  // namespace netd::testing
