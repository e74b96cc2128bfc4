// slice_filter (SOCKET_FILTER, bpf/raw_filter.bpf.c), as RawFilters loads it for a slice
// (slice_mark, mark_mask, slice_epoch rodata; FlowRecorder's and VifGuard's maps): the packets
// a raw/packet socket handed to alice may read, rule by rule of the program's header comment:
// (a) alice's mark, (b) received on her vif, (c) the reversed tuple is one of her flows,
// (d) TCP/UDP to a port she bound, there or on the wildcard, (e) an ICMP/ICMPv6 error quoting
// one of her packets; never a frame for another host's MAC; nothing once her mark is revoked.
//
// The rows are received packets (on up0 unless a row says otherwise): test_run cannot make a
// PACKET_OUTGOING copy, so the outgoing half (a sent packet's tuple taken as-is, vif rule
// skipped) is left to tests/integration/rawbpf. The flows and ports entries are written
// straight into FlowRecorder's maps (put_flow/put_port); RecordEgressTest.AReplyToARecordedFlowIsKept
// checks that record_egress's own entries match what the filter looks up.
#include <bpf/bpf.h>
#include <netinet/in.h>

#include "netd/kernel/bpf/bpf_skeleton.h"
#include "raw_filter.skel.h"
#include "tests/integration/bpfprog/bpfprog_env.h"

namespace netd::testing {
namespace {

using packet::Bytes;
using packet::ByteView;

constexpr const char* kRouter4 = "10.8.0.254";
constexpr const char* kRouter6 = "fd08::fe";
constexpr uint8_t kIcmpUnreachable = 3, kIcmpPortUnreachable = 3, kIcmpTimeExceeded = 11;
constexpr uint8_t kIcmp6Unreachable = 1, kIcmp6TooBig = 2;

class SliceFilterTest : public BpfProgTest {
 protected:
  void SetUp() override {
    BpfProgTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // The flows as the local host sent them (saddr = local), and the bound ports.
    put_flow(IPPROTO_TCP, kLocal4, 40000, kFar4, 80, kAliceMark);
    put_flow(IPPROTO_UDP, kLocal6, 40001, kFar6, 53, kAliceMark);
    put_flow(IPPROTO_ICMP, kLocal4, 77, kFar4, 77, kAliceMark);  // echo id in both ports
    put_flow(IPPROTO_ICMPV6, kLocal6, 78, kFar6, 78, kAliceMark);
    put_flow(IPPROTO_TCP, kLocal4, 40002, kFar4, 80, kBobMark);
    put_flow(IPPROTO_UDP, kLocal4, 40003, kFar4, 53, kBobMark);
    put_port(IPPROTO_TCP, kLocal4, 22, kAliceMark);
    put_port(IPPROTO_TCP, kLocal6, 443, kAliceMark);
    put_port(IPPROTO_UDP, "", 5353, kAliceMark);
    put_port(IPPROTO_TCP, "", 8080, kBobMark);
  }
};

TEST_F(SliceFilterTest, AlicesFilterKeepsHerPacketsOnly) {
  auto alice = slice_filter(kAliceMark);
  ASSERT_OK(alice);
  // Packets of alice's flows as the far side answers them.
  const Bytes tcp_reply = packet::tcp_packet(kFar4, 80, kLocal4, 40000, packet::kTcpAck);
  const Bytes udp6_reply = packet::udp_packet(kFar6, 53, kLocal6, 40001);
  const Bytes unrelated = packet::udp_packet(kFar4, 9999, kLocal4, 9999);
  // What alice sent, as an ICMP error quotes it.
  const Bytes alice_tcp = packet::tcp_packet(kLocal4, 40000, kFar4, 80);
  const Bytes alice_udp6 = packet::udp_packet(kLocal6, 40001, kFar6, 53);
  const Bytes alice_ping = packet::echo_packet(kLocal4, kFar4, true, 77);
  const Bytes bob_udp = packet::udp_packet(kLocal4, 40003, kFar4, 53);
  auto icmp4_error = [](uint8_t type, uint8_t code, ByteView quoted, size_t quote_len = 0) {
    return packet::ipv4(kRouter4, kLocal4, IPPROTO_ICMP, packet::icmp_error(type, code, quoted, quote_len));
  };
  auto icmp6_error = [](uint8_t type, ByteView quoted) {
    return packet::ipv6(kRouter6, kLocal6, IPPROTO_ICMPV6, packet::icmp_error(type, 0, quoted));
  };
  Bytes ihl4 = tcp_reply;
  ihl4[0] = 0x44;
  Bytes ihl15 = tcp_reply;  // 60 bytes of header claimed, 40 bytes of packet
  ihl15[0] = 0x4f;

  run_table(*alice, {
      // (a) the mark
      up0("alice-marked packet (raw IP input, conntrack mark restored)", unrelated, "keep", kAliceMark),
      up0("alice-marked packet with bits outside the mask", unrelated, "keep", kAliceMark | kRawFlag | 1),
      up0("bob-marked packet", unrelated, "drop", kBobMark),
      up0("alice's and bob's bits together", unrelated, "drop", kAliceMark | kBobMark),
      up0("unmarked unrelated packet", unrelated, "drop"),
      on(up0_, "alice-marked frame for another host's MAC (the mark comes first)",
         packet::frame(kOtherHostMac, unrelated), "keep", kAliceMark),
      // never a frame for another host
      on(up0_, "frame for another host's MAC, reply of alice's TCP flow", packet::frame(kOtherHostMac, tcp_reply),
         "drop"),
      on(vif0_, "frame for another host's MAC on alice's vif", packet::frame(kOtherHostMac, unrelated), "drop"),
      on(up0_, "broadcast frame, reply of alice's TCP flow", packet::frame(packet::kBroadcastMac, tcp_reply), "keep"),
      // (b) alice's vif
      on(vif0_, "unrelated packet received on alice's vif", packet::frame(kVif0Mac, unrelated), "keep"),
      on(vif0_, "ARP request received on alice's vif", packet::arp_request(kFar4, kLocal4), "keep"),
      on(vif1_, "unrelated packet received on bob's vif", packet::frame(kVif1Mac, unrelated), "drop"),
      on(up0_, "ARP request received on the uplink", packet::arp_request(kFar4, kLocal4), "drop"),
      on(vif1_, "reply of alice's TCP flow received on bob's vif", packet::frame(kVif1Mac, tcp_reply), "keep"),
      // (c) alice's flows, reversed
      up0("reply of alice's TCP flow", tcp_reply, "keep"),
      up0("alice's TCP tuple in the sending direction, received", alice_tcp, "drop"),
      up0("reply of alice's TCP flow to another local port", packet::tcp_packet(kFar4, 80, kLocal4, 40009), "drop"),
      up0("reply of alice's TCP flow from another far address", packet::tcp_packet("10.8.0.3", 80, kLocal4, 40000),
          "drop"),
      up0("UDP with the addresses and ports of alice's TCP flow", packet::udp_packet(kFar4, 80, kLocal4, 40000),
          "drop"),
      up0("reply of bob's TCP flow", packet::tcp_packet(kFar4, 80, kLocal4, 40002), "drop"),
      up0("reply of alice's IPv6 UDP flow", udp6_reply, "keep"),
      up0("reply of alice's IPv6 UDP flow behind a hop-by-hop header (not walked: no ports)",
          packet::ipv6_hop_by_hop(kFar6, kLocal6, IPPROTO_UDP, packet::udp(53, 40001)), "drop"),
      up0("echo reply to alice's ping (id 77)", packet::echo_packet(kFar4, kLocal4, false, 77), "keep"),
      up0("echo reply with another id", packet::echo_packet(kFar4, kLocal4, false, 76), "drop"),
      up0("echo request from the far host with alice's id (the id is both ports)",
          packet::echo_packet(kFar4, kLocal4, true, 77), "keep"),
      up0("ICMPv6 echo reply to alice's ping (id 78)", packet::echo_packet(kFar6, kLocal6, false, 78), "keep"),
      up0("reply of alice's TCP flow with IPv4 options (IHL 7)",
          packet::ipv4(kFar4, kLocal4, IPPROTO_TCP, packet::tcp(80, 40000), {.option_words = 2}), "keep"),
      up0("first fragment of a reply of alice's TCP flow",
          packet::ipv4(kFar4, kLocal4, IPPROTO_TCP, packet::tcp(80, 40000), {.more_fragments = true}), "keep"),
      up0("non-first fragment of a reply of alice's TCP flow (no ports)",
          packet::ipv4(kFar4, kLocal4, IPPROTO_TCP, packet::tcp(80, 40000), {.fragment_offset = 1}), "drop"),
      // (d) alice's bound ports
      up0("TCP SYN to alice's bound 10.8.0.1:22", packet::tcp_packet(kFar4, 50000, kLocal4, 22), "keep"),
      up0("TCP SYN to port 22 of another local address", packet::tcp_packet(kFar4, 50000, "10.8.0.9", 22), "drop"),
      up0("UDP to 10.8.0.1:22 (alice bound TCP)", packet::udp_packet(kFar4, 50000, kLocal4, 22), "drop"),
      up0("TCP SYN to alice's bound [fd08::1]:443", packet::tcp_packet(kFar6, 50000, kLocal6, 443), "keep"),
      up0("IPv4 TCP SYN to port 443 (alice bound it on fd08::1 only)", packet::tcp_packet(kFar4, 50000, kLocal4, 443),
          "drop"),
      up0("UDP to alice's wildcard port 5353, IPv4", packet::udp_packet(kFar4, 50000, kLocal4, 5353), "keep"),
      up0("UDP to alice's wildcard port 5353, IPv6", packet::udp_packet(kFar6, 50000, kLocal6, 5353), "keep"),
      up0("TCP to port 5353 (alice's wildcard is UDP)", packet::tcp_packet(kFar4, 50000, kLocal4, 5353), "drop"),
      up0("UDP from port 5353 (a bound port counts as destination only)",
          packet::udp_packet(kFar4, 5353, kLocal4, 50000), "drop"),
      up0("TCP SYN to bob's wildcard port 8080", packet::tcp_packet(kFar4, 50000, kLocal4, 8080), "drop"),
      // (e) ICMP errors about alice's packets
      up0("ICMP port unreachable quoting alice's TCP packet",
          icmp4_error(kIcmpUnreachable, kIcmpPortUnreachable, alice_tcp), "keep"),
      up0("ICMP time exceeded quoting alice's TCP packet", icmp4_error(kIcmpTimeExceeded, 0, alice_tcp), "keep"),
      up0("ICMP unreachable quoting alice's echo request", icmp4_error(kIcmpUnreachable, 1, alice_ping), "keep"),
      up0("ICMP unreachable quoting 8 bytes of alice's TCP header (RFC 792 minimum)",
          icmp4_error(kIcmpUnreachable, 1, alice_tcp, 28), "keep"),
      up0("ICMP unreachable quoting only the IP header of alice's packet (no ports)",
          icmp4_error(kIcmpUnreachable, 1, alice_tcp, 20), "drop"),
      up0("ICMP unreachable quoting bob's UDP packet", icmp4_error(kIcmpUnreachable, kIcmpPortUnreachable, bob_udp),
          "drop"),
      up0("ICMP unreachable quoting alice's flow reversed (a packet to her, not hers)",
          icmp4_error(kIcmpUnreachable, 1, tcp_reply), "drop"),
      up0("ICMP unreachable with nothing quoted", icmp4_error(kIcmpUnreachable, 1, {}), "drop"),
      up0("ICMPv6 unreachable quoting alice's UDP packet", icmp6_error(kIcmp6Unreachable, alice_udp6), "keep"),
      up0("ICMPv6 packet too big quoting alice's UDP packet", icmp6_error(kIcmp6TooBig, alice_udp6), "keep"),
      up0("ICMPv6 unreachable quoting an IPv4 packet of alice's", icmp6_error(kIcmp6Unreachable, alice_tcp), "drop"),
      up0("ICMP unreachable quoting a cut IPv4 header of alice's packet",
          icmp4_error(kIcmpUnreachable, 1, alice_tcp, 12), "drop"),
      up0("ICMPv6 unreachable quoting a cut IPv6 header of alice's packet",
          icmp6_error(kIcmp6Unreachable, packet::truncated(alice_udp6, 30)), "drop"),
      // truncated and malformed (test_run refuses an IP frame cut inside its fixed header:
      // those cuts are tested in the ICMP quotes above)
      up0("reply of alice's TCP flow cut after the source port", packet::truncated(tcp_reply, 22), "drop"),
      up0("reply of alice's IPv6 UDP flow cut after the source port", packet::truncated(udp6_reply, 42), "drop"),
      up0("reply of alice's TCP flow with IHL 4", ihl4, "drop"),
      up0("reply of alice's TCP flow whose IHL 15 points past its end", ihl15, "drop"),
      on(up0_, "IPv6 reply of alice's flow under ethertype IPv4",
         packet::ethernet(kUp0Mac, packet::kEthIpv4, udp6_reply), "drop"),
  }, socket_filter_verdict);
}

// Bob's filter is the mirror image: his flows and vif, none of alice's.
TEST_F(SliceFilterTest, BobsFilterKeepsHisPacketsOnly) {
  auto bob = slice_filter(kBobMark);
  ASSERT_OK(bob);
  run_table(*bob, {
      up0("bob-marked packet", packet::udp_packet(kFar4, 9999, kLocal4, 9999), "keep", kBobMark),
      up0("alice-marked packet", packet::udp_packet(kFar4, 9999, kLocal4, 9999), "drop", kAliceMark),
      up0("reply of bob's TCP flow", packet::tcp_packet(kFar4, 80, kLocal4, 40002), "keep"),
      up0("reply of alice's TCP flow", packet::tcp_packet(kFar4, 80, kLocal4, 40000), "drop"),
      up0("TCP SYN to bob's wildcard port 8080", packet::tcp_packet(kFar4, 50000, kLocal4, 8080), "keep"),
      up0("UDP to alice's wildcard port 5353", packet::udp_packet(kFar4, 50000, kLocal4, 5353), "drop"),
      on(vif1_, "packet received on bob's vif", packet::frame(kVif1Mac, packet::udp_packet(kFar4, 1, kLocal4, 1)),
         "keep"),
      on(vif0_, "packet received on alice's vif", packet::frame(kVif0Mac, packet::udp_packet(kFar4, 1, kLocal4, 1)),
         "drop"),
  }, socket_filter_verdict);
}

// A socket handed out before a reload that gave alice's mark to another slice keeps its filter
// (fds cannot be taken back): once RawFilters::revoke() moved the mark's epoch on, that filter
// keeps nothing of the mark's, while the next filter loaded for the mark keeps it all again.
TEST_F(SliceFilterTest, AFilterKeepsNothingOnceItsMarkIsRevoked) {
  auto before = slice_filter(kAliceMark);
  ASSERT_OK(before);
  auto bob = slice_filter(kBobMark);
  ASSERT_OK(bob);
  const std::vector<Row> hers = {
      up0("alice-marked packet", packet::udp_packet(kFar4, 9999, kLocal4, 9999), "", kAliceMark),
      up0("reply of alice's TCP flow", packet::tcp_packet(kFar4, 80, kLocal4, 40000), ""),
      up0("TCP SYN to alice's bound 10.8.0.1:22", packet::tcp_packet(kFar4, 50000, kLocal4, 22), ""),
      on(vif0_, "packet received on alice's vif", packet::frame(kVif0Mac, packet::udp_packet(kFar4, 1, kLocal4, 1)),
         ""),
  };
  const std::vector<Row> his = {
      up0("reply of bob's TCP flow", packet::tcp_packet(kFar4, 80, kLocal4, 40002), ""),
  };
  run_table(*before, expecting(hers, "keep", "before the revocation"), socket_filter_verdict);
  ASSERT_OK(filters_->revoke(kAliceMark));
  run_table(*before, expecting(hers, "drop", "filter of the revoked epoch"), socket_filter_verdict);
  run_table(*bob, expecting(his, "keep", "bob's filter after alice's revocation"), socket_filter_verdict);
  auto after = slice_filter(kAliceMark);
  ASSERT_OK(after);
  run_table(*after, expecting(hers, "keep", "filter of the new epoch"), socket_filter_verdict);
}

// RawFilters never loads a filter for mark 0 (it would be every unmarked socket's); the
// program fails closed by itself too. Loaded straight from the skeleton with slice_mark 0 and
// an epoch entry that matches, an unmarked packet would otherwise pass rule (a): 0 & mask == 0.
TEST_F(SliceFilterTest, AFilterForMarkZeroKeepsNothing) {
  EXPECT_ERR(filters_->slice_filter(0), EINVAL, "slice mark is 0");

  using RawFilterSkeleton = NETD_BPF_SKELETON(raw_filter_bpf);
  auto skel = RawFilterSkeleton::open("raw_filter (slice 0)");
  ASSERT_OK(skel);
  (*skel)->rodata->mark_mask = kMask;  // slice_mark and slice_epoch stay 0
  bpf_program__set_autoload((*skel)->progs.capture_filter, false);
  ASSERT_OK(skel->load());  // maps of its own, gone with the skeleton
  const uint32_t mark = 0, epoch = 0;
  ASSERT_EQ(bpf_map_update_elem(bpf_map__fd((*skel)->maps.slice_epochs), &mark, &epoch, BPF_ANY), 0);
  auto prog = BpfProgram::dup(bpf_program__fd((*skel)->progs.slice_filter));
  ASSERT_OK(prog);
  run_table(*prog, {
      up0("unmarked packet, filter of slice mark 0", packet::udp_packet(kFar4, 9999, kLocal4, 9999), "drop"),
      up0("alice-marked packet, filter of slice mark 0", packet::udp_packet(kFar4, 9999, kLocal4, 9999), "drop",
          kAliceMark),
  }, socket_filter_verdict);
}

}  // namespace
}  // namespace netd::testing
