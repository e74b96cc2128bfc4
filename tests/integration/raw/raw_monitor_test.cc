// Monitoring: the monitor slice "mon" (capture_all) receives every packet on the
// uplink, unscoped, and from the flow log (an NFLOG group netd bound for it) the slice id of
// each logged packet. Non-monitors are refused both; the monitor gets capture on uplinks only,
// and a capture socket re-bound elsewhere yields nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "tests/integration/raw/raw_test_env.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class RawMonitor : public RawTest {};

TEST_F(RawMonitor, CaptureSeesEverySlicesPacketsAndFlowLogAttributesThem) {
  Lines cap_lines, log_lines;
  auto cap = spawn_probe(kMon, {"capture-all", "uplink0", "60000", "--stop-stdin"});
  auto log = spawn_probe(kMon, {"flowlog", "60000", "--stop-stdin"});
  ASSERT_OK(cap);
  ASSERT_OK(log);
  auto cap_info = ready(*cap, cap_lines);
  auto log_info = ready(*log, log_lines);
  ASSERT_FALSE(cap_info.is_null());
  ASSERT_FALSE(log_info.is_null());
  EXPECT_EQ(cap_info.value("ifname", ""), "uplink0") << cap_info;
  EXPECT_EQ(cap_info.value("locked", 0), 1) << cap_info;
  EXPECT_EQ(cap_info.value("mark", 0u), kMonMark | kRawFlag) << cap_info;
  EXPECT_EQ(log_info.value("group", 0), 0x4e00 + 9) << log_info;
  EXPECT_EQ(log_info.value("domain", 0), AF_NETLINK) << log_info;

  // One flow log socket per group: a second one is refused while the first is open.
  auto second = request(kMon, {"request", "flowlog"});
  EXPECT_EQ(second.value("ok", true), false) << second;
  EXPECT_EQ(second.value("errno", 0), EBUSY) << second;

  auto alice_ports = connect(kAlice, "10.0.1.2", 8080, 2);
  auto bob_ports = connect(kBob, "10.0.1.2", 8080, 2);
  auto carol_ports = connect(kCarol, "10.0.1.2", 8080, 1);
  std::vector<int> everyones = alice_ports;
  everyones.insert(everyones.end(), bob_ports.begin(), bob_ports.end());
  everyones.insert(everyones.end(), carol_ports.begin(), carol_ports.end());
  finish_when(*cap, cap_lines, [&](const Lines& l) { return connections_seen(l, everyones); });
  // The flow log comes in batches (netd sets a queue threshold and a flush timeout): wait for
  // a logged packet each way of every connection.
  finish_when(*log, log_lines, [&](const Lines& l) {
    return std::all_of(everyones.begin(), everyones.end(), [&](int p) {
      bool in = false, out = false;
      for (const auto& j : touching(l, {p})) {
        out |= j.value("sport", -1) == p;
        in |= j.value("dport", -1) == p;
      }
      return in && out;
    });
  });

  // Capture: both directions of everyone's flows.
  for (const auto& [who, ports] : {std::pair{"alice", alice_ports}, std::pair{"bob", bob_ports},
                                   std::pair{"carol", carol_ports}}) {
    for (int p : ports) {
      SCOPED_TRACE(std::string(who) + " port " + std::to_string(p));
      EXPECT_TRUE(has_flags(tcp_packets(cap_lines, p, 8080, true), "S")) << dump(cap_lines);
      EXPECT_TRUE(has_flags(tcp_packets(cap_lines, p, 8080, false), "SA")) << dump(cap_lines);
      EXPECT_GE(tcp_packets(cap_lines, p, 8080, true).size(), 3u);
      EXPECT_GE(tcp_packets(cap_lines, p, 8080, false).size(), 2u);
    }
  }
  // Only uplink0 (the socket is bound there).
  for (const auto& j : cap_lines) {
    if (j.value("event", "") == "rx") {
      EXPECT_EQ(j.value("ifname", ""), "uplink0") << j;
    }
  }

  // Flow log: every logged packet of a connection names its slice, in both directions.
  for (const auto& [slice, ports] : {std::pair{7, alice_ports}, std::pair{8, bob_ports},
                                     std::pair{0, carol_ports}}) {
    for (int p : ports) {
      SCOPED_TRACE("slice " + std::to_string(slice) + " port " + std::to_string(p));
      auto logged = touching(log_lines, {p});
      size_t in = 0, out = 0;
      for (const auto& j : logged) {
        EXPECT_EQ(j.value("slice", -1), slice) << j;
        if (j.value("sport", -1) == p) ++out;
        if (j.value("dport", -1) == p) ++in;
      }
      EXPECT_GE(out, 1u) << dump(log_lines);
      EXPECT_GE(in, 1u) << dump(log_lines);
    }
  }
}

TEST_F(RawMonitor, CaptureAndFlowLogAreForMonitorsOnly) {
  for (uid_t uid : {kAlice, kBob, kCarol}) {
    auto cap = request(uid, {"request", "capture", "uplink0"});
    EXPECT_EQ(cap.value("ok", true), false) << cap;
    EXPECT_EQ(cap.value("errno", 0), EPERM) << cap;
    auto log = request(uid, {"request", "flowlog"});
    EXPECT_EQ(log.value("ok", true), false) << log;
    EXPECT_EQ(log.value("errno", 0), EPERM) << log;
  }
  auto alice = request(kAlice, {"request", "capture", "uplink0"});
  EXPECT_THAT(alice.value("error", ""), HasSubstr("PermissionDenied")) << alice;
  // Only uplinks: uplink1 and lo are not in [netd] uplinks; a missing device is not found.
  for (std::string dev : {"uplink1", "lo"}) {
    auto r = request(kMon, {"request", "capture", dev});
    EXPECT_EQ(r.value("ok", true), false) << r;
    EXPECT_EQ(r.value("errno", 0), EPERM) << r;
    EXPECT_THAT(r.value("error", ""), HasSubstr(dev + " is not an uplink")) << r;
  }
  auto missing = request(kMon, {"request", "capture", "nosuch0"});
  EXPECT_EQ(missing.value("ok", true), false) << missing;
  // The monitor's capture socket is bound where asked.
  auto ok = request(kMon, {"request", "capture", "uplink0"});
  EXPECT_EQ(ok.value("ok", false), true) << ok;
  EXPECT_EQ(ok.value("ifname", ""), "uplink0") << ok;
}

// Re-bound to uplink1 (not an uplink) or to all devices, the capture socket passes only
// what arrives on or leaves by the uplinks. That it is the filter, not a socket that hears
// nothing, is shown by the reload that makes uplink1 an uplink: the same socket then sees
// uplink1's traffic.
TEST_F(RawMonitor, RebindingTheCaptureSocketYieldsOnlyUplinkPackets) {
  for (std::string to : {"uplink1", "any"}) {
    SCOPED_TRACE("rebound to " + to);
    Lines lines, sniffed;
    auto cap = spawn_probe(kMon, {"capture-all", "uplink0", "60000", "--rebind", to, "--stop-stdin"});
    ASSERT_OK(cap);
    ASSERT_FALSE(ready(*cap, lines).is_null());
    // A root sniffer on the host's uplink1: when it has seen alice's connections whole, they
    // have passed the capture socket too.
    auto sniff = spawn_root({"sniff", "uplink1", "60000", "--stop-stdin"});
    ASSERT_OK(sniff);
    ASSERT_FALSE(ready(*sniff, sniffed).is_null());
    auto on_uplink1 = connect(kAlice, "10.0.2.2", 8080, 2);
    finish_when(*sniff, sniffed, [&](const Lines& l) { return connections_seen(l, on_uplink1); });
    auto on_uplink0 = connect(kBob, "10.0.1.2", 8080, 1);
    std::vector<int> later_on_uplink1;
    if (to == "uplink1") {
      // uplink1 becomes an uplink: the capture socket bound there now sees what passes it.
      std::string policy = bed_->policy_text(testbed_options());
      const std::string one = "uplinks = [\"uplink0\"]";
      policy.replace(policy.find(one), one.size(), "uplinks = [\"uplink0\", \"uplink1\"]");
      ASSERT_OK(bed_->write_policy(policy));
      auto reloaded = bed_->reload_netd();
      ASSERT_OK(reloaded);
      ASSERT_THAT(*reloaded, HasSubstr("netd: reloaded"));
      later_on_uplink1 = connect(kAlice, "10.0.2.2", 8080, 1);
      finish_when(*cap, lines, [&](const Lines& l) { return connections_seen(l, later_on_uplink1); });
    } else {
      finish_when(*cap, lines, [&](const Lines& l) { return connections_seen(l, on_uplink0); });
    }
    EXPECT_EQ(touching(lines, on_uplink1), Lines{}) << "uplink1 traffic reached the capture socket";
    for (const auto& j : lines) {
      if (j.value("event", "") != "rx" || j.value("ifname", "") == "uplink0") continue;
      // Once uplink1 is an uplink, the peer's IPv6 neighbour discovery there (its autoconf, MLD)
      // passes too, at times no test orders; alice's IPv4 connections are what is ordered. (Bound
      // to "any", uplink1 never becomes an uplink and every such packet would be a leak.)
      if (to == "uplink1" && j.value("ifname", "") == "uplink1" && j.value("l3", "") == "ipv6") continue;
      EXPECT_FALSE(touching(Lines(1, j), later_on_uplink1).empty()) << "not an uplink's packet: " << j;
    }
    if (to == "uplink1") {
      EXPECT_TRUE(connections_seen(lines, later_on_uplink1)) << dump(lines);
      EXPECT_EQ(touching(lines, on_uplink0), Lines{}) << "bound to uplink1, it saw uplink0";
      ASSERT_OK(bed_->write_policy(bed_->policy_text(testbed_options())));
      ASSERT_OK(bed_->reload_netd());
    }
  }
}

// Sockets cannot be taken back from their holders, so a reload that takes a right away revokes
// what was handed out under it: the monitor's capture socket once capture_all is gone, alice's
// packet socket once "packet" is gone from her raw. Both saw their traffic before; after the
// reload neither sees any of the connections a root sniffer on the same uplink sees whole
// (every tap of a device gets each packet in turn, so by then both sockets had their chance).
TEST_F(RawMonitor, AReloadTakingRightsAwayRevokesTheSocketsHandedOut) {
  Lines cap_lines, own_lines, sniffed;
  auto cap = spawn_probe(kMon, {"capture-all", "uplink0", "60000", "--stop-stdin"});
  auto own = spawn_probe(kAlice, {"capture", "uplink0", "60000", "--stop-stdin"});
  ASSERT_OK(cap);
  ASSERT_OK(own);
  ASSERT_FALSE(ready(*cap, cap_lines).is_null());
  ASSERT_FALSE(ready(*own, own_lines).is_null());
  auto before = connect(kAlice, "10.0.1.2", 8080, 1);
  ASSERT_TRUE(read_until(*cap, cap_lines, [&](const Lines& l) { return connections_seen(l, before); },
                         kEventTimeout)) << dump(cap_lines);
  ASSERT_TRUE(read_until(*own, own_lines, [&](const Lines& l) { return connections_seen(l, before); },
                         kEventTimeout)) << dump(own_lines);

  std::string policy = bed_->policy_text(testbed_options());
  for (auto [from, to] : {std::pair<std::string, std::string>{"capture_all = true", "capture_all = false"},
                          {kAllRaw, "raw = [\"icmp\", \"udp\"]\n"}}) {  // the first raw line: alice's
    size_t at = policy.find(from);
    ASSERT_NE(at, std::string::npos) << from << " not in\n" << policy;
    policy.replace(at, from.size(), to);
  }
  ASSERT_OK(bed_->write_policy(policy));
  auto reloaded = bed_->reload_netd();
  ASSERT_OK(reloaded);
  ASSERT_THAT(*reloaded, HasSubstr("netd: reloaded"));

  auto sniff = spawn_root({"sniff", "uplink0", "60000", "--stop-stdin"});
  ASSERT_OK(sniff);
  ASSERT_FALSE(ready(*sniff, sniffed).is_null());
  auto after = connect(kAlice, "10.0.1.2", 8080, 2);
  auto bobs = connect(kBob, "10.0.1.2", 8080, 1);
  after.insert(after.end(), bobs.begin(), bobs.end());
  finish_when(*sniff, sniffed, [&](const Lines& l) { return connections_seen(l, after); });
  finish(*cap, cap_lines);
  finish(*own, own_lines);
  EXPECT_EQ(touching(cap_lines, after), Lines{}) << "the capture socket outlived capture_all";
  EXPECT_EQ(touching(own_lines, after), Lines{}) << "alice's packet socket outlived \"packet\"";
}

// The monitor's flowlog and capture also work for ICMP (alice's ordinary ping): attributed to 7.
TEST_F(RawMonitor, FlowLogAttributesPings) {
  Lines log_lines;
  auto log = spawn_probe(kMon, {"flowlog", "60000", "--stop-stdin"});
  ASSERT_OK(log);
  ASSERT_FALSE(ready(*log, log_lines).is_null());
  EXPECT_TRUE(bed_->as(kAlice, {"ping", "-n", "-c", "2", "-i", "0.2", "-W", "1", "10.0.1.2"}).ok());
  EXPECT_TRUE(bed_->as(kBob, {"ping", "-n", "-c", "2", "-i", "0.2", "-W", "1", "-6", "fd00:1::2"}).ok());
  auto echoes = [](const Lines& l, const std::string& proto) {
    return std::count_if(l.begin(), l.end(), [&](const nlohmann::json& j) {
      int type = j.value("type", -1);
      return j.value("event", "") == "log" && j.value("proto", "") == proto &&
             (proto == "icmp" ? type == 0 || type == 8 : type == 128 || type == 129);
    });
  };
  finish_when(*log, log_lines, [&](const Lines& l) { return echoes(l, "icmp") >= 4 && echoes(l, "icmpv6") >= 4; });
  size_t alice_echo = 0, bob_echo = 0;
  for (const auto& j : log_lines) {
    if (j.value("event", "") != "log") continue;
    if (j.value("proto", "") == "icmp" && (j.value("dst", "") == "10.0.1.2" || j.value("src", "") == "10.0.1.2")) {
      EXPECT_EQ(j.value("slice", -1), 7) << j;
      ++alice_echo;
    }
    if (j.value("proto", "") == "icmpv6" && (j.value("type", 0) == 128 || j.value("type", 0) == 129)) {
      EXPECT_EQ(j.value("slice", -1), 8) << j;
      ++bob_echo;
    }
  }
  EXPECT_GE(alice_echo, 4u) << dump(log_lines);  // 2 requests out, 2 replies in
  EXPECT_GE(bob_echo, 4u) << dump(log_lines);
}

}  // namespace
}  // namespace netd::testing
