// sliceip exec against programs that misbehave (issue 13): socket() in a tight loop, fds closed
// under the supervisor's answers, a program killed mid-call, netd restarted mid-run, many threads
// at once. netd and the supervisor must stay healthy and keep no fd of a finished call: netd's fd
// count returns to its idle value, the supervisor's does not grow, and a fresh call still works.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>

#include <filesystem>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fixtures/eventually.h"
#include "tests/fixtures/json.h"
#include "tests/fixtures/test_macros.h"
#include "tests/integration/common/testbed_test.h"
#include "tests/integration/exec/report_end.h"

namespace netd::testing {
namespace {

constexpr uint32_t kAliceRawMark = (7u << 16) | 0x10000000;  // alice's id << mark_shift | raw_flag

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

// The probe's JSON line with this event (an object with "unparsed" if none).
nlohmann::json event_line(const std::string& out, const std::string& event) {
  for (const auto& line : split_lines(out)) {
    auto j = json_of(line);
    if (j.is_object() && j.value("event", "") == event) return j;
  }
  return {{"unparsed", out}};
}

long calls_answered(const nlohmann::json& j) {
  return j.value("ok", 0L) + j.value("eperm", 0L) + j.value("enobufs", 0L) + j.value("other", 0L);
}

size_t fds_of(pid_t pid) {
  std::error_code ec;
  size_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

// How many calls the refusal lines account for: each "refused: R" line is one, or N when a
// "refused N times (R)" summary follows. Fails the test on any other stderr line or a repeat.
long refusals_in(const std::string& err, const std::string& call) {
  const std::regex first("sliceip: exec: " + call + ": refused: (.*)");
  const std::regex summary("sliceip: exec: " + call + ": refused ([0-9]+) times \\((.*)\\)");
  std::map<std::string, long> counts;
  std::smatch m;
  for (const auto& line : split_lines(err)) {
    if (std::regex_match(line, m, first)) {
      EXPECT_EQ(counts.count(m[1]), 0u) << "reason printed twice: " << err;
      counts[m[1]] = 1;
    } else if (std::regex_match(line, m, summary)) {
      EXPECT_EQ(counts.count(m[2]), 1u) << "summary without its line: " << err;
      counts[m[2]] = std::stol(m[1]);
    } else {
      ADD_FAILURE() << "unexpected stderr line: " << line;
    }
  }
  long total = 0;
  for (const auto& [reason, n] : counts) total += n;
  return total;
}

class ExecRobust : public TestbedTest {
 protected:
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_alice = "raw = [\"icmp\", \"packet\"]\n";
    return o;
  }

  void SetUp() override {
    TestbedTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // netd's fd count once it has answered a first call (it may open what it needs lazily).
    expect_fresh_call_works();
    ASSERT_TRUE(eventually([&] { return bed_->netd_connections() == 0; })) << bed_->netd_connections();
    idle_fds_ = bed_->netd_fds();
  }

  ProcessResult probe(std::vector<std::string> args) const {
    args.insert(args.begin(), {"exec", "--", EXEC_PROBE});
    return bed_->sliceip(kAlice, args);
  }

  // netd still hands alice her raw socket through a new sliceip exec.
  void expect_fresh_call_works() const {
    nlohmann::json j;
    // The rate limit's bucket refills with time: a call may find it empty right after a burst.
    EXPECT_TRUE(eventually([&] {
      j = event_line(probe({"socket", "inet", "raw", "1"}).out, "socket");
      return j.value("errno", -1) == 0;
    })) << j.dump();
    EXPECT_EQ(j.value("mark", 0u), kAliceRawMark) << j.dump();
  }

  // netd holds no connection and no fd more than when idle, and still answers.
  void expect_netd_healthy() const {
    EXPECT_TRUE(eventually([&] { return bed_->netd_connections() == 0 && bed_->netd_fds() == idle_fds_; }))
        << "netd fds " << bed_->netd_fds() << " (idle " << idle_fds_ << "), connections "
        << bed_->netd_connections();
    expect_fresh_call_works();
  }

  size_t idle_fds_ = 0;
};

TEST_F(ExecRobust, SocketTightLoop) {
  constexpr long kCalls = 20000;
  // A rate a loop of socket() calls outruns (20000 take seconds here), so that some calls meet
  // the limit; how many depends on the machine's speed, and any split passes.
  TestbedOptions limited = testbed_options();
  limited.extra_netd = "requests_per_second_per_uid = 500\n";
  ASSERT_OK(bed_->write_policy(bed_->policy_text(limited)));
  auto reloaded = bed_->reload_netd();
  ASSERT_OK(reloaded);
  ASSERT_THAT(*reloaded, ::testing::HasSubstr("netd: reloaded"));
  ASSERT_TRUE(eventually([&] { return bed_->netd_connections() == 0; }));
  idle_fds_ = bed_->netd_fds();
  auto r = probe({"socket", "packet", "raw", "3", "count", std::to_string(kCalls)});
  ASSERT_EQ(r.exit_code, 0) << r.describe().substr(0, 4000);
  auto j = event_line(r.out, "loop");
  long ok = j.value("ok", 0L), eperm = j.value("eperm", 0L), other = j.value("other", 0L);
  EXPECT_EQ(ok + eperm + other, kCalls) << j.dump();
  EXPECT_GT(ok, 0) << j.dump();
  // Any split between answered and rate-limited calls is fine; a limited call is ENOBUFS.
  if (other > 0) {
    EXPECT_EQ(j.value("other_errno", 0), ENOBUFS) << j.dump();
    EXPECT_THAT(r.err, ::testing::HasSubstr("refused: request rate limit")) << r.err;
  }
  EXPECT_EQ(refusals_in(r.err, "socket\\(AF_PACKET, SOCK_RAW\\)"), eperm + other) << j.dump() << r.err;
  expect_netd_healthy();
}

TEST_F(ExecRobust, ClosesFdsUnderTheSupervisor) {
  constexpr long kCalls = 1000;  // per opener thread
  auto r = probe({"chaos", std::to_string(kCalls)});
  ASSERT_EQ(r.exit_code, 5) << "not the program's status: " << r.describe();
  auto j = event_line(r.out, "chaos");
  EXPECT_EQ(calls_answered(j), 2 * kCalls) << j.dump();
  EXPECT_GT(j.value("ok", 0L), 0) << j.dump();
  EXPECT_EQ(j.value("eperm", -1L), 0) << j.dump();
  EXPECT_EQ(j.value("other", -1L), 0) << j.dump();
  long refused = refusals_in(r.err, "socket\\((AF_INET|AF_PACKET), SOCK_RAW\\)");
  EXPECT_EQ(refused, j.value("enobufs", 0L)) << r.err;
  expect_netd_healthy();
}

TEST_F(ExecRobust, ExitsMidRequest) {
  auto run = bed_->spawn_as(kAlice, reporting_end({sliceip_binary(), "exec", "--", EXEC_PROBE, "spin", "300"}));
  ASSERT_OK(run);
  auto started = run->read_line(kEventTimeout);
  ASSERT_TRUE(started.has_value()) << run->wait(std::chrono::seconds(2)).describe();
  auto j = json_of(*started);
  ASSERT_GT(j.value("pid", 0), 1) << *started;
  // The probe is calling socket() without pause: the kill lands during one of them or between.
  ASSERT_EQ(::kill(j.value("pid", 0), SIGKILL), 0);
  auto end = run->read_line(kEventTimeout);
  ASSERT_TRUE(end.has_value()) << run->wait(std::chrono::seconds(2)).describe();
  auto e = json_of(*end);
  EXPECT_TRUE(e["exit"].is_null()) << "sliceip exited instead of dying of the signal: " << *end;
  EXPECT_EQ(e.value("signal", 0), SIGKILL) << *end;
  EXPECT_EQ(run->wait().exit_code, 0);
  expect_netd_healthy();
}

// The supervisor keeps nothing of an answered call: its fd count after bursts of calls is what
// it was before any. The program can report its last call before the supervisor has closed
// its copy of that socket (the trapped task and the supervisor share a CPU: the reply runs the
// program first), so the count is waited for.
TEST_F(ExecRobust, SupervisorKeepsNoFds) {
  constexpr long kCalls = 200;
  auto run = bed_->spawn_as(kAlice, {sliceip_binary(), "exec", "--", EXEC_PROBE, "steps", std::to_string(kCalls)});
  ASSERT_OK(run);
  auto ready = run->read_line(kEventTimeout);
  ASSERT_TRUE(ready.has_value()) << run->wait(std::chrono::seconds(2)).describe();
  pid_t supervisor = json_of(*ready).value("ppid", 0);
  ASSERT_GT(supervisor, 1) << *ready;
  auto step = [&] {
    EXPECT_OK(run->write_stdin("go\n"));
    auto line = run->read_line(kEventTimeout);
    EXPECT_TRUE(line.has_value());
    auto j = json_of(line.value_or("{}"));
    EXPECT_EQ(calls_answered(j), kCalls) << j.dump();
    EXPECT_EQ(j.value("eperm", -1L) + j.value("other", -1L), 0) << j.dump();
    return j;
  };
  size_t before = fds_of(supervisor);
  ASSERT_GT(before, 0u);
  for (int i = 0; i < 4; ++i) step();
  size_t after = 0;
  EXPECT_TRUE(eventually([&] { return (after = fds_of(supervisor)) == before; })) << after << " fds, not " << before;
  auto end = run->wait();
  EXPECT_EQ(end.exit_code, 0) << end.describe();
  expect_netd_healthy();
}

// netd restarted between two calls: the next call reconnects. While netd is down, calls fail
// EPERM with one line naming netd unreachable.
TEST_F(ExecRobust, NetdRestartedMidRun) {
  constexpr long kCalls = 5;
  auto run = bed_->spawn_as(kAlice, {sliceip_binary(), "exec", "--", EXEC_PROBE, "steps", std::to_string(kCalls)});
  ASSERT_OK(run);
  ASSERT_TRUE(run->read_line(kEventTimeout).has_value()) << run->wait(std::chrono::seconds(2)).describe();
  auto step = [&] {
    EXPECT_OK(run->write_stdin("go\n"));
    auto line = run->read_line(kEventTimeout);
    EXPECT_TRUE(line.has_value());
    return json_of(line.value_or("{}"));
  };
  EXPECT_EQ(step().value("ok", 0L), kCalls);

  bed_->kill_netd(SIGKILL);
  ASSERT_OK(bed_->start_netd());
  auto after_restart = step();
  EXPECT_EQ(after_restart.value("ok", 0L), kCalls) << after_restart.dump();

  bed_->kill_netd(SIGTERM);
  auto down = step();
  EXPECT_EQ(down.value("eperm", 0L), kCalls) << down.dump();
  ASSERT_OK(bed_->start_netd());
  auto back = step();
  EXPECT_EQ(back.value("ok", 0L), kCalls) << back.dump();

  auto end = run->wait();
  EXPECT_EQ(end.exit_code, 0) << end.describe();
  EXPECT_THAT(end.err, ::testing::StartsWith("sliceip: exec: socket(AF_INET, SOCK_RAW): refused: netd unreachable: "))
      << end.err;
  EXPECT_EQ(refusals_in(end.err, "socket\\(AF_INET, SOCK_RAW\\)"), kCalls) << end.err;
  // The restarted netd opened its own lazily-made fds again.
  ASSERT_TRUE(eventually([&] { return bed_->netd_connections() == 0; }));
  idle_fds_ = bed_->netd_fds();
  expect_netd_healthy();
}

TEST_F(ExecRobust, ManyThreads) {
  constexpr long kThreads = 8, kCalls = 200;
  auto r = probe({"threads", std::to_string(kThreads), std::to_string(kCalls)});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto j = event_line(r.out, "threads");
  EXPECT_EQ(calls_answered(j), kThreads * kCalls) << j.dump();
  EXPECT_GT(j.value("ok", 0L), 0) << j.dump();
  EXPECT_EQ(j.value("eperm", -1L) + j.value("other", -1L), 0) << "only ENOBUFS may refuse: " << j.dump();
  EXPECT_EQ(refusals_in(r.err, "socket\\(AF_INET, SOCK_RAW\\)"), j.value("enobufs", 0L)) << r.err;
  auto fds = event_line(r.out, "fds");
  EXPECT_EQ(fds.value("twice", -1L), 0) << "an fd number held by two threads at once: " << fds.dump();
  EXPECT_EQ(fds.value("no_mark", -1L), 0) << fds.dump();
  EXPECT_EQ(fds.value("bad_mark", -1L), 0) << fds.dump();
  EXPECT_EQ(fds.value("mark", 0u), kAliceRawMark) << fds.dump();
  expect_netd_healthy();
}

}  // namespace
}  // namespace netd::testing
