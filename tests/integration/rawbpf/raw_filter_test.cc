// Socket filters with real traffic: a packet socket or raw IP socket carrying a slice's
// filter sees that slice's flows (both directions, its listeners' first SYN, ICMP replies to
// its pings) and nothing of another slice's; a locked filter cannot be removed or replaced;
// the capture filter sees only the capture devices.
#include <linux/if_packet.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>

#include "tests/fixtures/eventually.h"
#include "tests/integration/rawbpf/rawbpf_env.h"

namespace netd::testing {
namespace {

class RawFilterTest : public RawBpfTest {
 protected:
  int alice_filter() {
    auto prog = filters_->slice_filter(kAliceMark);
    EXPECT_OK(prog);
    return prog.ok() ? *prog : -1;
  }
};

// TCP and UDP exchanges of alice and bob with the far echo server, IPv4 and IPv6, seen by a
// packet socket on up0 with alice's filter.
TEST_F(RawFilterTest, PacketSocketSeesOnlyItsSlicesFlowsBothWays) {
  UniqueFd sock = packet_socket(alice_filter(), "up0");
  ASSERT_TRUE(sock.valid());
  struct Exchange {
    const char* proto;
    const char* far;
    int alice_port = 0, bob_port = 0;
  } exchanges[] = {{"tcp", kFar0}, {"udp", kFar0}, {"tcp", kFar0v6}, {"udp", kFar0v6}};
  for (Exchange& e : exchanges) {
    e.alice_port = talk(kAlice, e.proto, e.far, kEchoPort, "alice").value("local_port", 0);
    e.bob_port = talk(kBob, e.proto, e.far, kEchoPort, "bob").value("local_port", 0);
  }
  // Alice's last exchange follows bob's last one: once seen, his had their chance.
  int last_port = talk(kAlice, "udp", kFar0, kEchoPort, "alice").value("local_port", 0);
  auto is = [](const Exchange& e, int local_port, bool out) {
    int proto = std::string(e.proto) == "tcp" ? IPPROTO_TCP : IPPROTO_UDP;
    return [=](const Seen& s) {
      return s.proto == proto && (out ? s.dst == e.far : s.src == e.far) && (out ? s.sport : s.dport) == local_port &&
             (out ? s.dport : s.sport) == kEchoPort && (s.pkttype == PACKET_OUTGOING) == out;
    };
  };
  std::vector<Seen> seen = drain(sock.get(), true, [&](const std::vector<Seen>& got) {
    for (const Exchange& e : exchanges)
      if (!any_of(got, is(e, e.alice_port, true)) || !any_of(got, is(e, e.alice_port, false))) return false;
    return any_of(got, is(Exchange{"udp", kFar0}, last_port, false));
  });
  for (const Exchange& e : exchanges) {
    auto is_e = [&](int local_port, bool out) { return is(e, local_port, out); };
    EXPECT_TRUE(any_of(seen, is_e(e.alice_port, true))) << e.proto << " " << e.far << " out\n" << describe(seen);
    EXPECT_TRUE(any_of(seen, is_e(e.alice_port, false))) << e.proto << " " << e.far << " in\n" << describe(seen);
    EXPECT_FALSE(any_of(seen, is_e(e.bob_port, true))) << e.proto << " " << e.far << " bob out\n" << describe(seen);
    EXPECT_FALSE(any_of(seen, is_e(e.bob_port, false))) << e.proto << " " << e.far << " bob in\n" << describe(seen);
  }
  // Nothing but alice's own packets: every TCP/UDP one is on one of her ports.
  for (const Seen& s : seen) {
    if (s.proto != IPPROTO_TCP && s.proto != IPPROTO_UDP) continue;
    bool hers = s.sport == last_port || s.dport == last_port;
    for (const Exchange& e : exchanges) hers |= s.sport == e.alice_port || s.dport == e.alice_port;
    EXPECT_TRUE(hers) << s.to_string();
  }
}

TEST_F(RawFilterTest, RawIcmpSocketSeesOnlyItsSlicesEchoReplies) {
  UniqueFd sock = host_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  ASSERT_TRUE(sock.valid());
  ASSERT_OK(kernel::attach_locked_filter(sock.get(), alice_filter()));
  int alice_id = ping(kAlice, kFar0).value("id", -1);
  int bob_id = ping(kBob, kFar0).value("id", -1);
  int alice_again = ping(kAlice, kFar0).value("id", -1);  // after bob's
  ASSERT_NE(alice_id, bob_id);
  ASSERT_NE(alice_again, bob_id);
  auto reply_to = [](int id) { return [id](const Seen& s) { return s.icmp_type == 0 && s.icmp_id == id; }; };
  std::vector<Seen> seen = drain(sock.get(), false, [&](const std::vector<Seen>& got) {
    return any_of(got, reply_to(alice_id)) && any_of(got, reply_to(alice_again));
  });
  EXPECT_TRUE(any_of(seen, reply_to(alice_id))) << describe(seen);
  EXPECT_FALSE(any_of(seen, reply_to(bob_id))) << describe(seen);
}

TEST_F(RawFilterTest, IcmpErrorsAboutItsFlowsAreSeen) {
  // Nothing listens on the far side's port 9: the far host answers port unreachable.
  UniqueFd v4 = host_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  UniqueFd v6 = host_socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
  ASSERT_TRUE(v4.valid() && v6.valid());
  ASSERT_OK(kernel::attach_locked_filter(v4.get(), alice_filter()));
  ASSERT_OK(kernel::attach_locked_filter(v6.get(), alice_filter()));
  udp_send(kAlice, kFar0, 9);
  udp_send(kAlice, kFar0v6, 9);
  udp_send(kBob, kFar0, 10);
  udp_send(kBob, kFar0v6, 10);
  udp_send(kAlice, kFar0, 11);  // after bob's: once its error is in, his had their chance
  udp_send(kAlice, kFar0v6, 11);
  auto unreachable = [](const Seen& s) { return s.icmp_type == 3; };
  std::vector<Seen> seen4 = drain(v4.get(), false, [&](const std::vector<Seen>& got) {
    return std::count_if(got.begin(), got.end(), unreachable) >= 2;
  });
  EXPECT_EQ(seen4.size(), 2u) << describe(seen4);
  // Raw ICMPv6 sockets get the ICMPv6 message without the IPv6 header: count types only.
  int unreachable6 = 0, other6 = 0;
  auto deadline = std::chrono::steady_clock::now() + kEventTimeout;
  while (unreachable6 < 2 && std::chrono::steady_clock::now() < deadline) {
    pollfd p{v6.get(), POLLIN, 0};
    (void)::poll(&p, 1, 100);
    uint8_t buf[1500];
    ssize_t n;
    while ((n = ::recv(v6.get(), buf, sizeof buf, MSG_DONTWAIT)) > 0) (buf[0] == 1 ? unreachable6 : other6)++;
  }
  EXPECT_EQ(unreachable6, 2);
  EXPECT_EQ(other6, 0);
}

TEST_F(RawFilterTest, PacketsReceivedOnItsVifsAreSeen) {
  // up1 stands in for a vif of alice's: what arrives on it is hers even with no flow or port.
  int up1 = host_ifindex("up1");
  ASSERT_OK(guard_->sync({{up1, kAliceMark}}, {}));
  UniqueFd alice = packet_socket(alice_filter(), "");
  auto bob_prog = filters_->slice_filter(kBobMark);
  ASSERT_OK(bob_prog);
  UniqueFd bob = packet_socket(*bob_prog, "");
  far_ping("10.9.0.1");
  far_ping(kUp0);
  far_ping("10.9.0.1");  // after the one on up0: once both are in, that one had its chance
  auto echo_in = [](int ifindex) {
    return [ifindex](const Seen& s) { return s.ifindex == ifindex && s.icmp_type == 8 && s.pkttype != PACKET_OUTGOING; };
  };
  std::vector<Seen> mine = drain(alice.get(), true, [&](const std::vector<Seen>& got) {
    return std::count_if(got.begin(), got.end(), echo_in(up1)) >= 2;
  });
  // The kernel's replies are not alice's (unmarked, outgoing): only what came in.
  EXPECT_FALSE(any_of(mine, [&](const Seen& s) { return s.ifindex != up1 || s.pkttype == PACKET_OUTGOING; }))
      << describe(mine);
  // Bob's socket saw none of it, though it is alive: his own exchange that follows reaches it.
  int bob_port = talk(kBob, "udp", kFar0, kEchoPort, "bob").value("local_port", 0);
  auto bobs = [&](const Seen& s) { return s.sport == bob_port || s.dport == bob_port; };
  std::vector<Seen> theirs = drain(bob.get(), true, [&](const std::vector<Seen>& got) {
    return std::count_if(got.begin(), got.end(), bobs) >= 2;
  });
  EXPECT_FALSE(any_of(theirs, [&](const Seen& s) { return !bobs(s); })) << describe(theirs);
}

TEST_F(RawFilterTest, ListenersFirstSynIsSeen) {
  UniqueFd sock = packet_socket(alice_filter(), "up0");
  ASSERT_TRUE(sock.valid());
  auto alice = listen(kAlice, "0.0.0.0", 7001);
  ASSERT_TRUE(alice);
  auto bob = listen(kBob, "10.8.0.1", 7002);
  ASSERT_TRUE(bob);
  auto ports = recorder_->ports();
  ASSERT_OK(ports);
  const kernel::BoundPort alice_port{IPPROTO_TCP, IpAddress(), 7001};
  const kernel::BoundPort bob_port{IPPROTO_TCP, IpAddress::parse(kUp0).value(), 7002};
  EXPECT_EQ((*ports)[alice_port], kAliceMark);
  EXPECT_EQ((*ports)[bob_port], kBobMark);

  far_connect(kUp0, 7001);
  far_connect(kUp0, 7002);
  // Alice's exchange after bob's connection: once seen, his packets had their chance.
  int last_port = talk(kAlice, "udp", kFar0, kEchoPort, "alice").value("local_port", 0);
  auto first_syn = [](int port) {
    return [port](const Seen& s) { return s.proto == IPPROTO_TCP && s.dport == port && s.syn && !s.ack; };
  };
  std::vector<Seen> seen = drain(sock.get(), true, [&](const std::vector<Seen>& got) {
    return any_of(got, [&](const Seen& s) { return s.dport == last_port; });
  });
  EXPECT_TRUE(any_of(seen, first_syn(7001))) << describe(seen);
  EXPECT_FALSE(any_of(seen, [](const Seen& s) { return s.dport == 7002 || s.sport == 7002; })) << describe(seen);

  // Closing the listeners removes their ports entries (cgroup/sock_release).
  alice->wait();
  bob->wait();
  ports = recorder_->ports();
  ASSERT_OK(ports);
  EXPECT_TRUE(ports->empty()) << ports->size();
}

TEST_F(RawFilterTest, LockedFilterCannotBeDetachedOrReplaced) {
  UniqueFd sock = packet_socket(alice_filter(), "up0");
  ASSERT_TRUE(sock.valid());
  int dummy = 0;
  EXPECT_EQ(::setsockopt(sock.get(), SOL_SOCKET, SO_DETACH_FILTER, &dummy, sizeof dummy), -1);
  EXPECT_EQ(errno, EPERM);
  auto bob = filters_->slice_filter(kBobMark);
  ASSERT_OK(bob);
  int prog = *bob;
  EXPECT_EQ(::setsockopt(sock.get(), SOL_SOCKET, SO_ATTACH_BPF, &prog, sizeof prog), -1);
  EXPECT_EQ(errno, EPERM);
  sock_filter pass_all = BPF_STMT(BPF_RET | BPF_K, 0xffff);
  sock_fprog classic{1, &pass_all};
  EXPECT_EQ(::setsockopt(sock.get(), SOL_SOCKET, SO_ATTACH_FILTER, &classic, sizeof classic), -1);
  EXPECT_EQ(errno, EPERM);
  int off = 0;
  EXPECT_EQ(::setsockopt(sock.get(), SOL_SOCKET, SO_LOCK_FILTER, &off, sizeof off), -1);
  EXPECT_EQ(errno, EPERM);
}

TEST_F(RawFilterTest, CaptureFilterSeesOnlyCaptureDevices) {
  int up0 = host_ifindex("up0");
  ASSERT_OK(recorder_->sync_capture_ifaces({up0}));
  auto prog = filters_->capture_filter(kBobMark);
  ASSERT_OK(prog);
  UniqueFd sock = packet_socket(*prog, "");  // bound to every device, as a holder could re-bind
  ASSERT_TRUE(sock.valid());
  int first = ping(kAlice, kFar0).value("id", -1);
  ping(kAlice, kFar1);  // through up1
  int last = ping(kAlice, kFar0).value("id", -1);  // once seen, the one through up1 had its chance
  auto reply_on_up0 = [&](int id) {
    return [&, id](const Seen& s) { return s.ifindex == up0 && s.icmp_type == 0 && s.icmp_id == id; };
  };
  std::vector<Seen> seen = drain(sock.get(), true, [&](const std::vector<Seen>& got) {
    return any_of(got, reply_on_up0(first)) && any_of(got, reply_on_up0(last));
  });
  EXPECT_TRUE(any_of(seen, [&](const Seen& s) { return s.ifindex == up0 && s.icmp_type == 0; })) << describe(seen);
  EXPECT_FALSE(any_of(seen, [&](const Seen& s) { return s.ifindex != up0; })) << describe(seen);

  auto capture = recorder_->capture_ifaces();
  ASSERT_OK(capture);
  EXPECT_EQ(*capture, std::set<int>{up0});
  EXPECT_ERR(recorder_->sync_capture_ifaces({0}), EINVAL, "not a device");
}

// A reload that removes alice's slice (or gives her id to another slice) revokes her mark:
// the socket handed out before sees nothing more, a new one (new epoch) works.
TEST_F(RawFilterTest, RevokedMarkLeavesEarlierSocketsBlind) {
  UniqueFd before = packet_socket(alice_filter(), "up0");
  ASSERT_TRUE(before.valid());
  int port = talk(kAlice, "udp", kFar0, kEchoPort, "alice").value("local_port", 0);
  auto mine = [&](int p) { return [p](const Seen& s) { return s.sport == p || s.dport == p; }; };
  auto both_ways = [&](int p) {
    return [&, p](const std::vector<Seen>& got) { return std::count_if(got.begin(), got.end(), mine(p)) >= 2; };
  };
  drain(before.get(), true, both_ways(port));

  ASSERT_OK(filters_->revoke(kAliceMark));
  UniqueFd after = packet_socket(alice_filter(), "up0");
  ASSERT_TRUE(after.valid());
  port = talk(kAlice, "udp", kFar0, kEchoPort, "alice").value("local_port", 0);
  // Both sockets tap up0: once the new one has the exchange, the old one had it offered too.
  drain(after.get(), true, both_ways(port));
  std::vector<Seen> blind = drain(before.get(), true, [](const std::vector<Seen>&) { return true; });
  EXPECT_TRUE(blind.empty()) << describe(blind);
  EXPECT_OK(filters_->revoke(kBobMark));  // never handed out: nothing to move on
}

TEST_F(RawFilterTest, SliceFiltersAreLoadedOnceAndHandedOutFast) {
  auto first = filters_->slice_filter(kAliceMark);
  ASSERT_OK(first);
  EXPECT_ERR(filters_->slice_filter(0), EINVAL, "slice mark is 0");
  EXPECT_ERR(filters_->slice_filter(1), EINVAL, "outside mark_mask");
  // A handout: the cached program, attached and locked on a fresh socket. Timed without
  // socket() and close(): closing a packet socket waits for an RCU grace period
  // (synchronize_net), which is the kernel's cost whoever hands sockets out.
  constexpr int kHandouts = 20000;
  std::chrono::steady_clock::duration spent{};
  for (int i = 0; i < kHandouts; ++i) {
    UniqueFd sock(::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP));
    ASSERT_TRUE(sock.valid());
    auto start = std::chrono::steady_clock::now();
    auto prog = filters_->slice_filter(kAliceMark);
    ASSERT_OK(prog);
    ASSERT_OK(kernel::attach_locked_filter(sock.get(), *prog));
    spent += std::chrono::steady_clock::now() - start;
    ASSERT_EQ(*prog, *first);
  }
  // The rate is bench/raw_bench's business; this only records it.
  double seconds = std::chrono::duration<double>(spent).count();
  RecordProperty("handouts_per_second", std::to_string(static_cast<int>(kHandouts / seconds)));
  EXPECT_EQ(filters_->cached(), 1u);
  filters_->forget(kAliceMark);
  EXPECT_EQ(filters_->cached(), 0u);
}

}  // namespace
}  // namespace netd::testing
