// The receive side of isolated sockets, with real packets: alice's raw ICMP socket
// and AF_PACKET socket from netd see every packet of her own traffic and nothing of bob's or
// carol's concurrent traffic, also after re-binding and after attempts to remove the filter;
// refusals name their reason and change nothing in the kernel.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "tests/integration/raw/raw_test_env.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class RawSockets : public RawTest {
 protected:
  // Raw ICMP isolation for one family: alice pings dst through her raw ICMP socket while bob does
  // the same (raw socket from netd and ordinary ping). Alice's replies all arrive; her socket
  // receives nothing but them.
  void ping_isolation(const std::string& family, const std::string& dst) {
    const int kAliceId = 0xa11e, kBobId = 0x0b0b;
    const int kEchoReply = family == "inet" ? 0 : 129;
    // Both raw sockets stay open until everyone's pings are done (--stop-stdin).
    auto alice = spawn_probe(kAlice, {"ping-raw", family, dst, "5", "--id", std::to_string(kAliceId), "--ms",
                                      "60000", "--stop-stdin"});
    ASSERT_OK(alice);
    Lines alice_lines;
    auto info = ready(*alice, alice_lines);
    EXPECT_EQ(info.value("mark", 0u), kAliceMark | kRawFlag) << info;
    EXPECT_EQ(info.value("locked", 0), 1) << info;
    EXPECT_EQ(info.value("type", 0), SOCK_RAW) << info;

    auto bob = spawn_probe(kBob, {"ping-raw", family, dst, "5", "--id", std::to_string(kBobId), "--ms", "60000",
                                  "--stop-stdin"});
    ASSERT_OK(bob);
    Lines bob_lines;
    ASSERT_FALSE(ready(*bob, bob_lines).is_null());
    std::vector<std::string> ping = {"ping", "-n", "-c", "5", "-i", "0.2", "-W", "5"};
    if (family == "inet6") ping.push_back("-6");
    ping.push_back(dst);
    auto bob_ping = bed_->spawn_as(kBob, ping);
    ASSERT_OK(bob_ping);
    auto carol_ping = bed_->spawn_as(kCarol, ping);
    ASSERT_OK(carol_ping);
    auto bob_ping_result = bob_ping->wait(60s);
    auto carol_ping_result = carol_ping->wait(60s);

    // Each raw socket got its 5 replies, and the plain pings are over (their replies passed the
    // raw sockets before ping saw them): stop both, reading what is queued.
    auto replies_to = [&](int id) {
      return [&, id](const Lines& lines) {
        return std::count_if(lines.begin(), lines.end(), [&](const nlohmann::json& j) {
                 return j.value("event", "") == "rx" && j.value("type", -1) == kEchoReply && j.value("id", -1) == id;
               }) >= 5;
      };
    };
    finish_when(*alice, alice_lines, replies_to(kAliceId));
    finish_when(*bob, bob_lines, replies_to(kBobId));
    nlohmann::json alice_done = alice_lines.empty() ? nlohmann::json() : alice_lines.back();
    nlohmann::json bob_done = bob_lines.empty() ? nlohmann::json() : bob_lines.back();
    ASSERT_EQ(alice_done.value("event", ""), "done") << dump(alice_lines);
    ASSERT_EQ(bob_done.value("event", ""), "done") << dump(bob_lines);

    // The traffic alice must not see existed: bob's echoes were answered.
    EXPECT_TRUE(bob_ping_result.ok()) << bob_ping_result.describe();
    EXPECT_TRUE(carol_ping_result.ok()) << carol_ping_result.describe();
    EXPECT_EQ(bob_done.value("replies", 0), 5) << dump(bob_lines);

    EXPECT_EQ(alice_done.value("sent", 0), 5) << dump(alice_lines);
    EXPECT_EQ(alice_done.value("replies", 0), 5) << dump(alice_lines);
    for (const auto& j : alice_lines) {
      if (j.value("event", "") != "rx") continue;
      EXPECT_EQ(j.value("type", -1), kEchoReply) << "alice's socket received another packet: " << j;
      EXPECT_EQ(j.value("id", -1), kAliceId) << "alice's socket received another packet: " << j;
      EXPECT_EQ(j.value("src", ""), dst) << j;
    }
    for (const auto& j : bob_lines) {
      if (j.value("event", "") == "rx") {
        EXPECT_NE(j.value("id", -1), kAliceId) << "bob's socket received alice's packet: " << j;
      }
    }
  }

  // A capture of alice's (packet socket, `args` after "capture") while alice, bob and carol
  // each connect to dst:port; checks that alice saw both directions of each of her
  // connections and nothing else at all.
  // outbound false: a packet socket for one ethertype (not ETH_P_ALL) gets no copies of
  // outgoing packets from the kernel (dev_queue_xmit_nit serves ETH_P_ALL taps only).
  void capture_isolation(std::vector<std::string> args, const std::string& dst, int port = 8080,
                         bool outbound = true) {
    args.insert(args.begin(), "capture");
    args.push_back("--stop-stdin");
    auto cap = spawn_probe(kAlice, args);
    ASSERT_OK(cap);
    Lines lines;
    auto info = ready(*cap, lines);
    ASSERT_FALSE(info.is_null());
    EXPECT_EQ(info.value("mark", 0u), kAliceMark | kRawFlag) << info;
    EXPECT_EQ(info.value("locked", 0), 1) << info;

    auto bob_flows = spawn_probe(kBob, {"tcp-connect", dst, std::to_string(port), "--repeat", "6", "--interval",
                                        "50"});
    ASSERT_OK(bob_flows);
    auto alice_ports = connect(kAlice, dst, port, 1);  // while bob's run
    auto carol_ports = connect(kCarol, dst, port, 1);
    auto bob_result = bob_flows->wait(20s);
    // Alice's last connection goes out after everyone else's: once it was seen whole, so would
    // have been any packet of theirs that reached her socket.
    auto last = connect(kAlice, dst, port, 1);
    alice_ports.insert(alice_ports.end(), last.begin(), last.end());
    finish_when(*cap, lines, [&](const Lines& l) { return connections_seen(l, alice_ports, outbound, port); });

    std::vector<int> bob_ports;
    for (size_t start = 0; start < bob_result.out.size();) {
      size_t end = bob_result.out.find('\n', start);
      if (end == std::string::npos) end = bob_result.out.size();
      auto j = json_of(bob_result.out.substr(start, end - start));
      if (j.is_object() && j.value("ok", false)) bob_ports.push_back(j.value("sport", 0));
      start = end + 1;
    }
    EXPECT_EQ(bob_ports.size(), 6u) << bob_result.describe();

    for (int p : alice_ports) {
      auto out = tcp_packets(lines, p, port, true);
      auto in = tcp_packets(lines, p, port, false);
      if (outbound) {
        EXPECT_TRUE(has_flags(out, "S")) << "alice's SYN (port " << p << ") not seen:\n" << dump(lines);
        EXPECT_GE(out.size(), 3u) << dump(lines);  // SYN, ACK, ..., FIN/ACK
      }
      EXPECT_TRUE(has_flags(in, "SA")) << "the SYN-ACK to alice (port " << p << ") not seen:\n" << dump(lines);
      EXPECT_GE(in.size(), 2u) << dump(lines);  // SYN-ACK, data, FIN
    }
    EXPECT_EQ(touching(lines, bob_ports), Lines{}) << "bob's packets reached alice's socket";
    EXPECT_EQ(touching(lines, carol_ports), Lines{}) << "carol's packets reached alice's socket";
    // Nothing but her own flows at all (no ARP, NDP, or anyone's else's packets).
    for (const auto& j : lines) {
      if (j.value("event", "") != "rx") continue;
      bool hers = false;
      for (int p : alice_ports) hers |= j.value("sport", -1) == p || j.value("dport", -1) == p;
      EXPECT_TRUE(hers) << "alice's socket saw a packet not of her flows: " << j;
    }
  }
};

// A ping through alice's raw ICMP socket, with bob's and carol's concurrent pings.
TEST_F(RawSockets, RawIcmpSocketSeesOnlyAlicesEchoReplies) { ping_isolation("inet", "10.0.1.2"); }

// With netd inside the policy's cgroup and no monitor or snat vif, nothing needs conntrack (it
// would cost every packet of the host): the raw sockets' filters keep replies by the flows the
// recorder learned from the sockets themselves.
class RawWithoutConntrack : public RawSockets {
 protected:
  TestbedOptions testbed_options() const override {
    TestbedOptions o = RawSockets::testbed_options();
    o.extra_bob = std::string(kAllRaw);
    return o;
  }
};

TEST_F(RawWithoutConntrack, RawIcmpSocketsSeeOnlyTheirSlicesEchoReplies) {
  const std::string table = bed_->root({"nft", "list", "table", "inet", "netd"}).out;
  EXPECT_EQ(table.find("ct "), std::string::npos) << table;
  ping_isolation("inet", "10.0.1.2");
  ping_isolation("inet6", "fd00:1::2");
}
TEST_F(RawSockets, RawIcmpv6SocketSeesOnlyAlicesEchoReplies) { ping_isolation("inet6", "fd00:1::2"); }

// Her AF_PACKET socket on the uplink sees all of her TCP flows, both
// directions, and nothing of bob's or carol's concurrent flows to the same server. The
// filter cannot be detached, replaced or unlocked, nor the mark changed; the capture after
// the attempts proves the filter is still there.
TEST_F(RawSockets, PacketSocketSeesBothDirectionsOfAlicesFlowsOnly) {
  capture_isolation({"uplink0", "60000", "--tamper"}, "10.0.1.2");
}

TEST_F(RawSockets, FilterCannotBeRemovedOrReplaced) {
  for (std::string kind : {"packet", "raw"}) {
    auto r = request(kAlice, {"filter-tamper", kind});
    SCOPED_TRACE(kind + ": " + r.dump());
    EXPECT_EQ(r.value("detach", -1), EPERM);
    EXPECT_EQ(r.value("attach_filter", -1), EPERM);
    EXPECT_EQ(r.value("attach_bpf", -1), EPERM);
    EXPECT_EQ(r.value("unlock", -1), EPERM);
    EXPECT_EQ(r.value("set_mark", -1), EPERM);
    EXPECT_EQ(r.value("locked", 0), 1);
    EXPECT_EQ(r.value("mark", 0u), kAliceMark | kRawFlag);
  }
}

// The whole capture again on an unbound socket (all devices), IPv6 flows, and a socket
// bound to the second uplink: every time only alice's own packets.
TEST_F(RawSockets, PacketSocketOnAllDevicesSeesOnlyAlicesFlows) {
  capture_isolation({"any", "60000"}, "10.0.1.2");
}
TEST_F(RawSockets, PacketSocketSeesOnlyAlicesIpv6Flows) {
  capture_isolation({"uplink0", "60000"}, "fd00:1::2");
}

// Re-binding the socket netd bound to uplink0: on uplink1 and on lo it still passes only
// alice's packets (the filter goes with the socket, not the device).
TEST_F(RawSockets, RebindToUplink1StillOnlyAlicesFlows) {
  capture_isolation({"uplink0", "60000", "--rebind", "uplink1"}, "10.0.2.2");
}
TEST_F(RawSockets, RebindToLoopbackStillOnlyAlicesFlows) {
  auto server = spawn_root({"tcp-serve", "127.0.0.1", "7070", "20000"});
  ASSERT_OK(server);
  ASSERT_TRUE(server->read_line().has_value());
  capture_isolation({"uplink0", "60000", "--rebind", "lo"}, "127.0.0.1", 7070);
}
TEST_F(RawSockets, RebindToAllDevicesStillOnlyAlicesFlows) {
  capture_isolation({"uplink0", "60000", "--rebind", "any"}, "10.0.1.2");
}

// A packet socket for one ethertype sees only that one, and still only alice's packets (the
// kernel gives such sockets received packets only).
TEST_F(RawSockets, PacketSocketForIpv4Only) {
  capture_isolation({"uplink0", "60000", "--proto", "0x0800"}, "10.0.1.2", 8080, false);
}

// Refusals: each with its reason, and nothing left in the kernel.
class RawRefusals : public RawTest {
 protected:
  TestbedOptions testbed_options() const override {
    TestbedOptions o = RawTest::testbed_options();
    o.extra_bob = "raw = [\"udp\"]\n";  // no icmp, no packet; and no monitor slice
    return o;
  }
};

TEST_F(RawRefusals, EachRefusalNamesItsReasonAndChangesNothing) {
  // bob's vif, for "another slice's device".
  auto vif = bed_->vtuntap(kBob, {"add", "tun", "--addr", "10.8.0.1/30", "--persist"});
  ASSERT_TRUE(vif.ok()) << vif.describe();
  ASSERT_EQ(vif.out, "tun8-0\n");
  // A granted request first, so the lazily made kernel state (filters, chains) exists.
  ASSERT_EQ(request(kAlice, {"request", "packet", "uplink0"}).value("ok", false), true);
  ASSERT_EQ(request(kBob, {"request", "raw", "inet", "udp"}).value("ok", false), true);
  const std::string before = kernel_state();

  struct Case {
    uid_t uid;
    std::vector<std::string> args;
    int err;
    std::string reason;  // a substring of netd_last_error()
  };
  const std::vector<Case> cases = {
      {kBob, {"request", "raw", "inet", "icmp"}, EPERM, "raw icmp sockets are not allowed for slice bob"},
      {kBob, {"request", "raw", "inet6", "icmpv6"}, EPERM, "raw icmpv6 sockets are not allowed"},
      {kBob, {"request", "raw", "inet", "tcp"}, EPERM, "raw tcp sockets are not allowed"},
      {kBob, {"request", "packet", "any"}, EPERM, "packet sockets are not allowed for slice bob"},
      {kCarol, {"request", "raw", "inet", "udp"}, EPERM, "not a member of any slice"},
      {kCarol, {"request", "packet", "uplink0"}, EPERM, "not a member of any slice"},
      {kAlice, {"request", "capture", "uplink0"}, EPERM, "capture_all"},
      {kAlice, {"request", "flowlog"}, EPERM, "capture_all"},
      {kBob, {"request", "raw", "inet", "255"}, EPERM, "IPPROTO_RAW: header-include, any IP protocol) need every"},
      {kAlice, {"request", "raw", "inet", "132"}, EPERM, "132"},
      {kAlice, {"request", "raw", "inet6", "icmp"}, EINVAL, "icmp goes with family inet"},
      {kAlice, {"request", "raw", "inet", "icmpv6"}, EINVAL, "icmpv6 goes with family inet6"},
      {kAlice, {"call", "io.netd.Sockets.Raw", R"({"family":"inet","protocol":"sctp"})"}, EPROTONOSUPPORT, "sctp"},
      {kAlice, {"call", "io.netd.Sockets.Raw", R"({"family":"unix","protocol":"udp"})"}, EAFNOSUPPORT, "unix"},
      {kAlice, {"call", "io.netd.Sockets.Packet", R"({"protocol":-1})"}, EINVAL, "ethertype"},
      {kAlice, {"call", "io.netd.Sockets.Packet", R"({"protocol":70000})"}, EINVAL, "ethertype"},
      {kAlice, {"call", "io.netd.Sockets.Packet", R"({"ifname":"bad/name"})"}, EINVAL, "ifname"},
      {kAlice, {"request", "packet", "tun8-0"}, EPERM, "tun8-0 is a vif of another slice"},
      {kAlice, {"request", "packet", "nosuch0"}, ENODEV, "no device nosuch0"},
  };
  for (const auto& c : cases) {
    auto r = request(c.uid, c.args);
    std::string what = "uid " + std::to_string(c.uid);
    for (const auto& a : c.args) what += " " + a;
    SCOPED_TRACE(what + " -> " + r.dump());
    EXPECT_EQ(r.value("ok", true), false);
    EXPECT_EQ(r.value("errno", 0), c.err);
    EXPECT_THAT(r.value("error", ""), HasSubstr(c.reason));
  }
  // netd answers a request only once it is done with it: nothing is left to happen.
  EXPECT_EQ(kernel_state(), before);
  // Every refusal was audit-logged with its error.
  std::string log = bed_->netd_log();
  size_t refusals = 0;
  for (size_t at = 0; (at = log.find("method=io.netd.Sockets.", at)) != std::string::npos; ++at) {
    size_t eol = log.find('\n', at);
    std::string line = log.substr(at, eol == std::string::npos ? std::string::npos : eol - at);
    if (line.find("result=io.netd.") != std::string::npos && line.find("reason=") != std::string::npos) ++refusals;
  }
  EXPECT_EQ(refusals, cases.size()) << log;
}

// Isolation outlives netd: with netd SIGKILLed, sockets handed out before keep their
// filter (alice's capture sees her flows and nothing of bob's) and the send fence keeps
// dropping forged frames; after a restart, the old socket still works (netd re-adopted the
// flow map rather than replacing it) and new sockets are handed out.
TEST_F(RawSockets, IsolationOutlivesNetd) {
  Lines during_lines, after_lines, forged_lines, ok_lines, hdr_lines;
  auto during = spawn_probe(kAlice, {"capture", "uplink0", "20000", "--hold", "--stop-stdin"});
  auto after = spawn_probe(kAlice, {"capture", "uplink0", "20000", "--hold", "--stop-stdin"});
  auto forged = spawn_probe(kAlice, {"send-frame", "uplink0", "10.0.1.99", "10.0.1.2", "--tag", "k-forged",
                                     "--hold"});
  auto allowed = spawn_probe(kAlice, {"send-frame", "uplink0", "10.0.1.1", "10.0.1.2", "--tag", "k-ok", "--hold"});
  auto hdrincl = spawn_probe(kAlice, {"hdrincl", "10.0.1.99", "10.0.1.2", "--tag", "k-hdrincl", "--hold"});
  ASSERT_OK(during);
  ASSERT_OK(after);
  ASSERT_OK(forged);
  ASSERT_OK(allowed);
  ASSERT_OK(hdrincl);
  ASSERT_FALSE(ready(*during, during_lines).is_null());
  ASSERT_FALSE(ready(*after, after_lines).is_null());
  ASSERT_FALSE(ready(*forged, forged_lines).is_null());
  ASSERT_FALSE(ready(*allowed, ok_lines).is_null());
  ASSERT_FALSE(ready(*hdrincl, hdr_lines).is_null());

  bed_->kill_netd(SIGKILL);
  EXPECT_FALSE(request(kAlice, {"request", "packet", "uplink0"}).value("ok", false));  // netd is gone

  auto sniff = spawn_in_peer({"sniff", "any", "20000", "--stop-stdin"});
  ASSERT_OK(sniff);
  Lines sniff_lines;
  ASSERT_FALSE(ready(*sniff, sniff_lines).is_null());

  // The socket is open and filtered since "ready"; what arrives queues until it reads.
  ASSERT_OK(during->write_stdin("go\n"));
  auto bob_ports = connect(kBob, "10.0.1.2", 8080, 3);
  auto alice_ports = connect(kAlice, "10.0.1.2", 8080, 2);
  for (auto* p : {&*forged, &*allowed, &*hdrincl}) ASSERT_OK(p->write_stdin("go\n"));
  wait_event(*forged, forged_lines, "done");
  wait_event(*allowed, ok_lines, "done");
  wait_event(*hdrincl, hdr_lines, "done");
  send_sentinel("k-sentinel", "10.0.1.2");
  finish_when(*during, during_lines, [&](const Lines& l) { return connections_seen(l, alice_ports); });
  finish_when(*sniff, sniff_lines, [](const Lines& l) {
    return payloads(l).count("k-ok") >= 3 && payloads(l).count("k-sentinel") > 0;
  });

  for (int p : alice_ports) {
    EXPECT_TRUE(has_flags(tcp_packets(during_lines, p, 8080, true), "S")) << dump(during_lines);
    EXPECT_TRUE(has_flags(tcp_packets(during_lines, p, 8080, false), "SA")) << dump(during_lines);
  }
  EXPECT_EQ(touching(during_lines, bob_ports), Lines{});
  auto arrived = payloads(sniff_lines);
  EXPECT_EQ(arrived.count("k-ok"), 3u) << dump(sniff_lines);
  EXPECT_EQ(arrived.count("k-forged"), 0u) << dump(sniff_lines);
  EXPECT_EQ(arrived.count("k-hdrincl"), 0u) << dump(sniff_lines);

  // Restart: netd re-adopts its pins; the socket handed out before the kill still sees both
  // directions of alice's new flows (the flow map its filter reads is still the one the egress
  // recorder writes), and none of bob's.
  ASSERT_OK(bed_->start_netd());
  ASSERT_OK(after->write_stdin("go\n"));
  bob_ports = connect(kBob, "10.0.1.2", 8080, 2);
  alice_ports = connect(kAlice, "10.0.1.2", 8080, 2);
  finish_when(*after, after_lines, [&](const Lines& l) { return connections_seen(l, alice_ports); });
  for (int p : alice_ports) {
    EXPECT_TRUE(has_flags(tcp_packets(after_lines, p, 8080, true), "S")) << dump(after_lines);
    EXPECT_TRUE(has_flags(tcp_packets(after_lines, p, 8080, false), "SA")) << dump(after_lines);
  }
  EXPECT_EQ(touching(after_lines, bob_ports), Lines{});
  auto fresh = request(kAlice, {"request", "packet", "uplink0"});
  EXPECT_EQ(fresh.value("ok", false), true) << fresh;
  EXPECT_EQ(fresh.value("locked", 0), 1) << fresh;
}

// The send fence costs every packet of the host, so netd makes it only once some slice may
// hold flagged sockets. A reload that takes the last such grant keeps it, since what was handed
// out stays out: a frame with a forged source from a socket handed out before is still dropped.
// A restart keeps it too (netd cannot know what an earlier one handed out); a teardown ends it.
TEST_F(RawSockets, TheSendFenceOutlivesTheLastGrant) {
  Lines forged_lines, ok_lines;
  auto forged = spawn_probe(kAlice, {"send-frame", "uplink0", "10.0.1.99", "10.0.1.2", "--tag", "g-forged", "--hold"});
  auto allowed = spawn_probe(kAlice, {"send-frame", "uplink0", "10.0.1.1", "10.0.1.2", "--tag", "g-ok", "--hold"});
  ASSERT_OK(forged);
  ASSERT_OK(allowed);
  ASSERT_FALSE(ready(*forged, forged_lines).is_null());
  ASSERT_FALSE(ready(*allowed, ok_lines).is_null());

  TestbedOptions ungranted;  // no raw kind, no monitor; alice keeps her send device
  ungranted.extra_alice = "packet_send_devices = [\"uplink0\"]\n";
  ASSERT_OK(bed_->write_policy(bed_->policy_text(ungranted)));
  auto reloaded = bed_->reload_netd();
  ASSERT_OK(reloaded);
  ASSERT_THAT(*reloaded, HasSubstr("netd: reloaded"));
  auto fenced = [&] {
    return bed_->root({"nft", "list", "chain", "inet", "netd", "raw_output"}).ok() &&
           bed_->root({"nft", "list", "chain", "netdev", "netd", "raw_fence"}).ok();
  };
  EXPECT_TRUE(fenced()) << "a reload keeps the fence";

  auto sniff = spawn_in_peer({"sniff", "any", "20000", "--stop-stdin"});
  ASSERT_OK(sniff);
  Lines sniff_lines;
  ASSERT_FALSE(ready(*sniff, sniff_lines).is_null());
  for (auto* p : {&*forged, &*allowed}) ASSERT_OK(p->write_stdin("go\n"));
  wait_event(*forged, forged_lines, "done");
  wait_event(*allowed, ok_lines, "done");
  send_sentinel("g-sentinel", "10.0.1.2");
  finish_when(*sniff, sniff_lines, [](const Lines& l) {
    return payloads(l).count("g-ok") >= 3 && payloads(l).count("g-sentinel") > 0;
  });
  auto arrived = payloads(sniff_lines);
  EXPECT_EQ(arrived.count("g-ok"), 3u) << dump(sniff_lines);
  EXPECT_EQ(arrived.count("g-forged"), 0u) << dump(sniff_lines);

  bed_->stop_netd();
  ASSERT_OK(bed_->start_netd());
  EXPECT_TRUE(fenced()) << "a restart keeps it";
  bed_->stop_netd();
  auto down = bed_->root({netd_binary(), "--policy", bed_->policy_path(), "--teardown"});
  ASSERT_TRUE(down.ok()) << down.describe();
  ASSERT_OK(bed_->start_netd());
  EXPECT_FALSE(bed_->root({"nft", "list", "chain", "inet", "netd", "raw_output"}).ok())
      << "no grant after a teardown: no fence";
  EXPECT_FALSE(bed_->root({"nft", "list", "chain", "netdev", "netd", "raw_fence"}).ok());
}

}  // namespace
}  // namespace netd::testing
