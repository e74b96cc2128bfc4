// netd-flowmon as the monitor slice "mon" (uid 1004, capture_all): alice's and bob's pings and
// TCP connections out of uplink0 are counted under their own slice ids, in both directions,
// and per flow; with --ipfix the same traffic reaches nfcapd as flow records under the slice
// ids and nfdump shows their names (%ivrfnam, from the names' options records), and a decoder of
// the test's own sees the names as VRFname in the records and the templates sent again;
// non-monitors are refused (exit 2) and usage errors are exit 1.
#include <gmock/gmock.h>
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fixtures/eventually.h"
#include "tests/fixtures/ipfix_decode.h"
#include "tests/integration/flowmon/flowmon_fixture.h"
#include "tests/integration/common/traffic_scripts.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;
using namespace std::chrono_literals;

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

// nfdump's rows "ivrf sp dp packets bytes", columns separated by one space.
struct NfdumpRow {
  uint64_t vrf = 0, sport = 0, dport = 0, packets = 0, bytes = 0;
};

std::vector<NfdumpRow> nfdump_rows(const std::string& out) {
  std::vector<NfdumpRow> rows;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    NfdumpRow r;
    unsigned long long v[5];
    if (std::sscanf(line.c_str(), "%llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4]) != 5) continue;
    r = {v[0], v[1], v[2], v[3], v[4]};
    rows.push_back(r);
  }
  return rows;
}

// The --ipfix tests: nfcapd (root, the host netns' loopback) collects for each of them and is
// stopped after it.
class FlowmonIpfix : public Flowmon {
 protected:
  void SetUp() override {
    if (access("/usr/bin/nfcapd", X_OK) != 0 || access("/usr/bin/nfdump", X_OK) != 0)
      GTEST_SKIP() << "nfdump is not installed: run scripts/install-deps";
    Flowmon::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    ASSERT_OK_INTO(collector_, start_nfcapd());
  }
  void TearDown() override {
    if (collector_) {
      (void)collector_->kill(SIGTERM);
      (void)collector_->wait(10s);
    }
    Flowmon::TearDown();
  }

  std::optional<ChildProcess> collector_;
};

// --ipfix to nfcapd (root, loopback of the host netns): alice's and bob's UDP flows to the peer
// arrive with their slice ids as ingress VRF, exact packet counts, IP bytes within 2 %; bob's
// TCP connection under 8 both ways; root's datagrams (no slice) under 0. The records go out at
// SIGTERM (timeouts far away).
TEST_F(FlowmonIpfix, IpfixRecordsCarryTheSliceAsIngressVrf) {
  auto mon = start_exporter({"--idle-timeout", "600"});
  ASSERT_OK(mon);

  // alice: 100 datagrams of 1000 bytes; bob: 50 of 500 (IP bytes: +28 each); bob's connection.
  auto a = send_udp(kAlice, 41001, 9001, 100, 1000);
  ASSERT_EQ(a.exit_code, 0) << a.describe();
  auto b = send_udp(kBob, 41002, 9002, 50, 500);
  ASSERT_EQ(b.exit_code, 0) << b.describe();
  EXPECT_EQ(bed_->connect_source(kBob, "10.0.1.2"), "10.0.1.1");
  auto root = bed_->root({"python3", "-c", kUdpSender, "41009", "9009", "20", "100"});  // no slice's
  ASSERT_EQ(root.exit_code, 0) << root.describe();

  // netd's NFLOG batches reach the monitor within its flush timeout; SIGTERM then reads what is
  // queued and sends every open flow.
  ASSERT_OK(mon->kill(SIGTERM));
  auto done = mon->wait(10s);
  ASSERT_EQ(done.exit_code, 0) << done.describe();
  EXPECT_THAT(done.err, HasSubstr("0 lost")) << done.describe();

  std::vector<NfdumpRow> udp, tcp;
  ProcessResult dump;
  auto arrived = [&] {
    dump = nfdump("proto udp");
    udp = nfdump_rows(dump.out);
    tcp = nfdump_rows(nfdump("proto tcp and port 8080").out);
    uint64_t seen = 0;
    for (const auto& r : udp)
      if (r.dport == 9001 || r.dport == 9002 || r.dport == 9009) seen += r.packets;
    return seen >= 170 && tcp.size() >= 2;
  };
  ASSERT_TRUE(eventually(arrived, 30s)) << dump.describe() << "\nflowmon: " << done.describe();

  std::map<uint64_t, NfdumpRow> by_port;  // alice's 9001, bob's 9002, root's 9009: summed over rows
  const std::map<uint64_t, uint64_t> slice_of_port = {{9001, kAliceId}, {9002, kBobId}, {9009, 0}};
  for (const auto& r : udp) {
    if (!slice_of_port.contains(r.dport)) continue;
    EXPECT_EQ(r.vrf, slice_of_port.at(r.dport)) << dump.out;
    by_port[r.dport].packets += r.packets;
    by_port[r.dport].bytes += r.bytes;
  }
  EXPECT_EQ(by_port[9001].packets, 100u) << dump.out;
  EXPECT_NEAR(static_cast<double>(by_port[9001].bytes), 100 * 1028.0, 100 * 1028.0 * 0.02) << dump.out;
  EXPECT_EQ(by_port[9002].packets, 50u) << dump.out;
  EXPECT_NEAR(static_cast<double>(by_port[9002].bytes), 50 * 528.0, 50 * 528.0 * 0.02) << dump.out;
  EXPECT_EQ(by_port[9009].packets, 20u) << dump.out;
  bool out = false, in = false;  // one record per direction
  for (const auto& r : tcp) {
    EXPECT_EQ(r.vrf, static_cast<uint64_t>(kBobId));
    out = out || r.dport == 8080;
    in = in || r.sport == 8080;
  }
  EXPECT_TRUE(out && in);
  // tcpControlBits: the OR of each direction's flags, SYN among them ("....S." and the like).
  auto flags = bed_->root({"nfdump", "-R", flows_, "-q", "-N", "-o", "fmt:%dp %flg", "proto tcp and dst port 8080"});
  EXPECT_THAT(flags.out, ::testing::ContainsRegex("8080 +[.A-Z]*S")) << flags.describe();
}

// netd SIGKILLed and started again while netd-flowmon --ipfix runs: the flow log socket netd
// handed over stays bound to the monitor's NFLOG group, and the restarted netd logs into the
// same group, so nothing is lost: alice's flow counted across the restart adds up exactly, and
// bob's flow that starts after it is there too.
TEST_F(FlowmonIpfix, IpfixExportGoesOnAcrossANetdRestart) {
  auto mon = start_exporter({"--idle-timeout", "600"});
  ASSERT_OK(mon);
  auto before = send_udp(kAlice, 41011, 9011, 40, 300);
  ASSERT_EQ(before.exit_code, 0) << before.describe();
  bed_->kill_netd(SIGKILL);
  ASSERT_OK(bed_->start_netd());
  auto after = send_udp(kAlice, 41011, 9011, 60, 300);
  ASSERT_EQ(after.exit_code, 0) << after.describe();
  auto bob = send_udp(kBob, 41012, 9012, 30, 300);
  ASSERT_EQ(bob.exit_code, 0) << bob.describe();
  ASSERT_OK(mon->kill(SIGTERM));
  auto done = mon->wait(10s);
  ASSERT_EQ(done.exit_code, 0) << done.describe();
  EXPECT_THAT(done.err, HasSubstr("0 lost")) << done.describe();

  std::map<uint64_t, uint64_t> packets, vrf;
  ProcessResult dump;
  auto arrived = [&] {
    dump = nfdump("proto udp and (port 9011 or port 9012)");
    packets.clear();
    for (const auto& r : nfdump_rows(dump.out)) {
      packets[r.dport] += r.packets;
      vrf[r.dport] = r.vrf;
    }
    return packets[9011] >= 100 && packets[9012] >= 30;
  };
  ASSERT_TRUE(eventually(arrived, 30s)) << dump.describe() << "\nflowmon: " << done.describe();
  EXPECT_EQ(packets[9011], 100u) << dump.out;
  EXPECT_EQ(packets[9012], 30u) << dump.out;
  EXPECT_EQ(vrf[9011], static_cast<uint64_t>(kAliceId)) << dump.out;
  EXPECT_EQ(vrf[9012], static_cast<uint64_t>(kBobId)) << dump.out;
}

// --active-timeout 0.2 with a long idle timeout: a flow that goes on across three bursts, each
// sent once the one before is at the collector, comes as separate records (cut by the active
// timeout only) that add up to what was sent.
TEST_F(FlowmonIpfix, IpfixActiveTimeoutPiecesAddUpToTheFlow) {
  auto mon = start_exporter({"--active-timeout", "0.2", "--idle-timeout", "600"});
  ASSERT_OK(mon);
  std::vector<NfdumpRow> rows;
  ProcessResult dump;
  uint64_t sent = 0;
  for (uint64_t burst = 1; burst <= 3; ++burst) {
    auto a = send_udp(kAlice, 41005, 9005, 10 * burst, 200);
    ASSERT_EQ(a.exit_code, 0) << a.describe();
    sent += 10 * burst;
    auto at_collector = [&] {
      dump = nfdump("proto udp and dst port 9005");
      rows = nfdump_rows(dump.out);
      uint64_t packets = 0;
      for (const auto& r : rows) packets += r.packets;
      return packets == sent;
    };
    ASSERT_TRUE(eventually(at_collector, 30s)) << "burst " << burst << ": " << dump.describe();
  }
  ASSERT_OK(mon->kill(SIGTERM));
  auto done = mon->wait(10s);
  EXPECT_EQ(done.exit_code, 0) << done.describe();
  EXPECT_GE(rows.size(), 3u) << dump.out;  // a burst never shares a record with the next
  uint64_t bytes = 0;
  for (const auto& r : rows) {
    EXPECT_EQ(r.vrf, static_cast<uint64_t>(kAliceId)) << dump.out;
    bytes += r.bytes;
  }
  EXPECT_EQ(bytes, sent * 228) << dump.out;
}

// nfdump's %ivrfnam: the names come to nfcapd as options records (scope ingressVRFID,
// VRFname), so the operator's "who sent this?" query shows the slice by name as well as by id.
TEST_F(FlowmonIpfix, NfdumpShowsTheSlicesNamesFromTheNamesOptionRecords) {
  auto mon = start_exporter({"--idle-timeout", "600"});
  ASSERT_OK(mon);
  auto a = send_udp(kAlice, 41051, 9051, 3, 100);
  ASSERT_EQ(a.exit_code, 0) << a.describe();
  auto b = send_udp(kBob, 41052, 9052, 3, 100);
  ASSERT_EQ(b.exit_code, 0) << b.describe();
  ASSERT_OK(mon->kill(SIGTERM));
  auto done = mon->wait(10s);
  ASSERT_EQ(done.exit_code, 0) << done.describe();
  ProcessResult dump;
  auto shown = [&] {
    dump = bed_->root({"nfdump", "-R", flows_, "-q", "-N", "-o", "fmt:%dp %ivrf %ivrfnam", "proto udp and (dst port 9051 or dst port 9052)"});
    return dump.out.find("9051") != std::string::npos && dump.out.find("9052") != std::string::npos;
  };
  ASSERT_TRUE(eventually(shown, 30s)) << dump.describe() << "\nflowmon: " << done.describe();
  EXPECT_THAT(dump.out, ::testing::ContainsRegex("9051 +7 +alice")) << dump.out;
  EXPECT_THAT(dump.out, ::testing::ContainsRegex("9052 +8 +bob")) << dump.out;
}

// A collector of the test's own on 127.0.0.1:4740 of the host netns: every datagram decoded by
// tests/fixtures/ipfix_decode.h (nfdump 1.7.1 leaves IE 236 of data records aside).
// VRFname (IE 236) beside ingressVRFID: alice's records say "alice", bob's "bob" (his UDP flow
// and his TCP connection, both ways), root's datagrams (no slice) "". The records go out at
// SIGTERM.
TEST_F(FlowmonIpfix, IpfixRecordsNameTheSliceAsVrfName) {
  auto opened = IpfixListener::open(bed_->host());
  ASSERT_OK(opened);
  IpfixListener& listener = *opened;
  auto mon = start_exporter({"--idle-timeout", "600"}, IpfixListener::kAddress);
  ASSERT_OK(mon);
  auto a = send_udp(kAlice, 41021, 9021, 5, 100);
  ASSERT_EQ(a.exit_code, 0) << a.describe();
  auto b = send_udp(kBob, 41022, 9022, 5, 100);
  ASSERT_EQ(b.exit_code, 0) << b.describe();
  EXPECT_EQ(bed_->connect_source(kBob, "10.0.1.2"), "10.0.1.1");
  auto root = bed_->root({"python3", "-c", kUdpSender, "41029", "9029", "5", "100"});
  ASSERT_EQ(root.exit_code, 0) << root.describe();
  ASSERT_OK(mon->kill(SIGTERM));
  auto done = mon->wait(10s);
  ASSERT_EQ(done.exit_code, 0) << done.describe();
  EXPECT_THAT(done.err, HasSubstr("0 lost")) << done.describe();

  // Each UDP flow one way, bob's connection both ways.
  auto arrived = [&] {
    return listener.slices_of_port(9021).size() >= 1 && listener.slices_of_port(9022).size() >= 1 &&
           listener.slices_of_port(9029).size() >= 1 && listener.slices_of_port(8080).size() >= 2;
  };
  ASSERT_TRUE(listener.receive_until(arrived)) << done.describe();
  EXPECT_EQ(listener.malformed(), 0u);
  using Slices = std::vector<std::pair<uint64_t, std::string>>;
  EXPECT_EQ(listener.slices_of_port(9021), (Slices{{kAliceId, "alice"}}));
  EXPECT_EQ(listener.slices_of_port(9022), (Slices{{kBobId, "bob"}}));
  EXPECT_EQ(listener.slices_of_port(9029), (Slices{{0, ""}}));
  EXPECT_EQ(listener.slices_of_port(8080), (Slices{{kBobId, "bob"}, {kBobId, "bob"}}));
}

// --template-interval 1: a collector that starts after netd-flowmon (it missed the templates
// sent at the start) gets them again, and with them decodes the records that follow.
TEST_F(FlowmonIpfix, IpfixTemplatesAreSentAgainForACollectorThatStartsLate) {
  auto mon = start_exporter({"--template-interval", "1", "--idle-timeout", "0.2"}, IpfixListener::kAddress);
  ASSERT_OK(mon);
  auto opened = IpfixListener::open(bed_->host());
  ASSERT_OK(opened);
  IpfixListener& listener = *opened;
  ASSERT_TRUE(listener.receive_until([&] { return listener.decoded().template_sets >= 1; }))
      << "no templates sent again";
  EXPECT_EQ(listener.decoded().templates.size(), 4u);  // IPv4, IPv6, statistics, slice names
  auto a = send_udp(kAlice, 41023, 9023, 5, 100);
  ASSERT_EQ(a.exit_code, 0) << a.describe();
  ASSERT_TRUE(listener.receive_until([&] { return !listener.slices_of_port(9023).empty(); }))
      << "alice's record was not decoded";
  EXPECT_EQ(listener.slices_of_port(9023).front(), (std::pair<uint64_t, std::string>{kAliceId, "alice"}));
  // And again a second later: the re-send is on a schedule, not once.
  uint64_t seen = listener.decoded().template_sets;
  EXPECT_TRUE(listener.receive_until([&] { return listener.decoded().template_sets > seen; }));
  ASSERT_OK(mon->kill(SIGTERM));
  auto done = mon->wait(10s);
  EXPECT_EQ(done.exit_code, 0) << done.describe();
}

// A collector name that does not resolve: the export cannot start, exit 2 with the name and
// libfixbuf's reason, after netd's FlowLog call (which checks the monitor first).
TEST_F(Flowmon, AnUnresolvableCollectorIsExitTwo) {
  // The netns has no route to a name server: one short try (glibc's RES_OPTIONS) is enough.
  auto r = bed_->as(kMon, {"env", "RES_OPTIONS=timeout:1 attempts:1", FLOWMON_BINARY, "--ipfix",
                           "collector.invalid:4739"});
  EXPECT_EQ(r.exit_code, 2) << r.describe();
  EXPECT_THAT(r.err, HasSubstr("netd-flowmon: collector.invalid:4739: ")) << r.describe();
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("exporting"))) << r.describe();
}

// Nobody listens on the collector's port: the kernel's refusal of the first message is
// printed, once, with the address; the probe goes on and still ends 0 at SIGTERM.
TEST_F(Flowmon, ACollectorThatDoesNotListenIsReportedOnStderr) {
  auto mon = start_exporter({});
  ASSERT_OK(mon);
  ASSERT_OK(mon->kill(SIGTERM));
  auto done = mon->wait(10s);
  EXPECT_EQ(done.exit_code, 0) << done.describe();
  EXPECT_THAT(done.err, HasSubstr("netd-flowmon: 127.0.0.1:4739: sending to the IPFIX collector: ")) << done.describe();
  EXPECT_THAT(done.err, HasSubstr("Connection refused")) << done.describe();
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
                                        {"--idle-timeout", "5"},
                                        {"--ipfix", "127.0.0.1:4739", "--template-interval", "0"},
                                        {"--ipfix", "127.0.0.1:4739", "--template-interval", "soon"}}) {
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
