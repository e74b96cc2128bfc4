// netd-flowmon as the monitor slice "mon" (uid 1004, capture_all): alice's and bob's pings and
// TCP connections out of uplink0 are counted under their own slice ids, in both directions,
// and per flow; non-monitors are refused (exit 2) and usage errors are exit 1.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fixtures/eventually.h"
#include "tests/integration/common/testbed_test.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr uid_t kMon = 1004;
constexpr int kAliceId = 7, kBobId = 8;
constexpr uint64_t kPingBytes = 84;  // ping's default: 56 data + 8 ICMP + 20 IPv4

struct Totals {
  uint64_t in_packets = 0, in_bytes = 0, out_packets = 0, out_bytes = 0;
};

void add(Totals& t, const json& entry) {
  t.in_packets += entry["in"].value("packets", 0ull);
  t.in_bytes += entry["in"].value("bytes", 0ull);
  t.out_packets += entry["out"].value("packets", 0ull);
  t.out_bytes += entry["out"].value("bytes", 0ull);
}

class Flowmon : public TestbedTest {
 protected:
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_bob = "\n[[slice]]\nname = \"mon\"\nid = 9\nuids = [1004]\ncapture_all = true\nraw = [\"packet\"]\n";
    return o;
  }

  ProcessResult flowmon(uid_t uid, std::vector<std::string> args) const {
    args.insert(args.begin(), FLOWMON_BINARY);
    return bed_->as(uid, args);
  }
};

// What the reports so far add up to: per slice, and per flow of interest.
struct Tallies {
  std::map<int, Totals> slices;
  Totals alice_ping, bob_ping, bob_tcp;
  std::vector<std::string> wrong;  // flows counted under another slice than their own
};

Tallies tally(const std::vector<json>& reports) {
  Tallies t;
  for (const auto& report : reports) {
    for (const auto& s : report["slices"]) add(t.slices[s.value("slice", -1)], s);
    for (const auto& f : report["flows"]) {
      if (f.value("remote", "") != "10.0.1.2" || f.value("local", "") != "10.0.1.1") continue;
      int slice = f.value("slice", -1);
      if (f.value("proto", "") == "icmp") add(slice == kAliceId ? t.alice_ping : t.bob_ping, f);
      if (f.value("proto", "") == "tcp" && f.value("remote_port", 0) == 8080) {
        if (slice != kBobId) t.wrong.push_back(f.dump());
        add(t.bob_tcp, f);
      }
    }
  }
  return t;
}

TEST_F(Flowmon, CountsEachSlicesTrafficUnderItsIdAndPerFlow) {
  auto mon = bed_->spawn_as(kMon, {FLOWMON_BINARY, "-j", "--flows", "--interval", "0.2"});
  ASSERT_OK(mon);
  std::vector<json> reports;
  auto read_report = [&](std::chrono::milliseconds timeout) {
    auto line = mon->read_line(timeout);
    if (line) reports.push_back(json::parse(*line, nullptr, false));
    return line.has_value();
  };
  ASSERT_TRUE(read_report(kEventTimeout));  // a report: the flow log socket is bound

  auto alice = bed_->as(kAlice, {"ping", "-n", "-c", "3", "-i", "0.2", "-W", "5", "10.0.1.2"});
  auto bob = bed_->as(kBob, {"ping", "-n", "-c", "2", "-i", "0.2", "-W", "5", "10.0.1.2"});
  EXPECT_TRUE(alice.ok()) << alice.describe();
  EXPECT_TRUE(bob.ok()) << bob.describe();
  EXPECT_EQ(bed_->connect_source(kBob, "10.0.1.2"), "10.0.1.1");
  // The flow log reaches flowmon in batches (a queue threshold and a flush timeout): read its
  // reports until every ping is counted both ways and bob's connection has its handshake.
  auto complete = [](const Tallies& t) {
    return t.alice_ping.out_packets >= 3 && t.alice_ping.in_packets >= 3 && t.bob_ping.out_packets >= 2 &&
           t.bob_ping.in_packets >= 2 && t.bob_tcp.out_packets >= 3 && t.bob_tcp.in_packets >= 2;
  };
  auto deadline = std::chrono::steady_clock::now() + kEventTimeout;
  while (!complete(tally(reports)) && std::chrono::steady_clock::now() < deadline)
    if (!read_report(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())))
      break;
  // SIGTERM: a last report of what was still queued, exit 0.
  ASSERT_OK(mon->kill(SIGTERM));
  auto done = mon->wait(10s);
  EXPECT_EQ(done.exit_code, 0) << done.describe();
  std::istringstream out(done.out);
  size_t before_stop = reports.size();
  for (std::string line; std::getline(out, line);)
    if (!line.empty()) reports.push_back(json::parse(line, nullptr, false));
  ASSERT_EQ(reports.size(), before_stop + 1) << "no last report on SIGTERM: " << done.describe();
  for (size_t i = 0; i < reports.size(); ++i) EXPECT_EQ(reports[i].value("report", 0u), i + 1) << reports[i];

  Tallies t = tally(reports);
  ASSERT_TRUE(complete(t)) << done.describe();
  EXPECT_EQ(t.wrong, std::vector<std::string>{});
  // Per slice: each one's pings (and bob's connection) both ways; nothing of theirs under 9.
  EXPECT_GE(t.slices[kAliceId].out_packets, 3u);
  EXPECT_GE(t.slices[kAliceId].in_packets, 3u);
  EXPECT_GE(t.slices[kBobId].out_packets, 2u + 3u);  // 2 echo requests + SYN, ACK, FIN at least
  EXPECT_GE(t.slices[kBobId].in_packets, 2u + 2u);
  EXPECT_EQ(t.slices.count(9), 0u);
  // Per flow: the ping flows are whole, with ping's exact sizes, and each under its own slice.
  EXPECT_EQ(t.alice_ping.out_packets, 3u);
  EXPECT_EQ(t.alice_ping.in_packets, 3u);
  EXPECT_EQ(t.alice_ping.out_bytes, 3 * kPingBytes);
  EXPECT_EQ(t.alice_ping.in_bytes, 3 * kPingBytes);
  EXPECT_EQ(t.bob_ping.out_packets, 2u);
  EXPECT_EQ(t.bob_ping.in_packets, 2u);
}

TEST_F(Flowmon, StopsAfterCountReports) {
  auto r = flowmon(kMon, {"--count", "2", "--interval", "0.1"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("--- report 1 at "));
  EXPECT_THAT(r.out, HasSubstr("--- report 2 at "));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("report 3")));
  EXPECT_THAT(r.out, HasSubstr("slice    pkts-in"));
}

TEST_F(Flowmon, NonMonitorsAreRefusedWithNetdsReason) {
  for (uid_t uid : {kAlice, kCarol}) {
    auto r = flowmon(uid, {"--count", "1"});
    EXPECT_EQ(r.exit_code, uid == kAlice ? 2 : 1) << r.describe();
    EXPECT_THAT(r.err, HasSubstr("netd-flowmon: ")) << r.describe();
  }
  auto alice = flowmon(kAlice, {"--count", "1"});
  EXPECT_THAT(alice.err, HasSubstr("refused: ")) << alice.describe();
  EXPECT_THAT(alice.err, HasSubstr("not a monitor")) << alice.describe();
  auto exporter = flowmon(kAlice, {"--ipfix", "127.0.0.1:4739"});  // the same refusal, before any export
  EXPECT_EQ(exporter.exit_code, 2) << exporter.describe();
  EXPECT_THAT(exporter.err, HasSubstr("not a monitor")) << exporter.describe();
}

TEST_F(Flowmon, UsageErrorsAreExitOneAndHelpIsExitZero) {
  for (std::vector<std::string> args : {std::vector<std::string>{"--interval", "0"},
                                        {"--count", "0"},
                                        {"--interv", "1"},
                                        {"--flows=yes"},
                                        {"extra"},
                                        {"--ipfix", "127.0.0.1"},
                                        {"--ipfix", "::1:4739"},
                                        {"--ipfix", "127.0.0.1:0"},
                                        {"--ipfix", "127.0.0.1:4739", "-j"},
                                        {"--idle-timeout", "5"}}) {
    auto r = flowmon(kMon, args);
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    EXPECT_THAT(r.err, HasSubstr("netd-flowmon: ")) << r.describe();
  }
  auto help = flowmon(kMon, {"--help"});
  EXPECT_EQ(help.exit_code, 0) << help.describe();
  EXPECT_THAT(help.out, HasSubstr("Usage: netd-flowmon"));
}

}  // namespace
}  // namespace netd::testing
