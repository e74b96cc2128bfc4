// record_egress (cgroup_skb/egress, bpf/flow_record.bpf.c), as FlowRecorder loads it
// (mark_mask, raw_flag, netns_cookie rodata; pinned flows/ports maps): a packet with slice bits
// in its mark records its 5-tuple → the slice in flows; a packet of a handed-out raw socket
// (raw_flag) is dropped if it is TCP/UDP on another slice's flow or bound port, or from a port
// a socket of anyone else holds. Each row's verdict comes with what it changed in flows.
//
// test_run's dummy socket has mark 0, so the raw flag is given on the packet's mark (the
// program reads both); the socket lookups see the real sockets of the test's netns. What
// feeds the ports map (post_bind) cannot be test-run: its entries are written here, its
// recording is tests/integration/rawbpf's.
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "netd/kernel/bpf/map_sync.h"
#include "tests/integration/bpfprog/bpfprog_env.h"

namespace netd::testing {
namespace {

using kernel::RecordedFlow;
using packet::Bytes;
using packet::ByteView;

constexpr uint16_t kListenerPort = 7070;  // a root TCP listener in the netns (unmarked)
constexpr uint16_t kUdpBoundPort = 7071;  // a root UDP socket bound in the netns (unmarked)

std::string entry(const RecordedFlow& flow, uint32_t mark) { return flow.to_string() + " = " + kernel::hex32(mark); }

// An unmarked socket of this thread's netns bound to 0.0.0.0:port (listening, for TCP).
UniqueFd bound_socket(int type, uint16_t port) {
  UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  EXPECT_TRUE(fd.valid()) << std::strerror(errno);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << std::strerror(errno);
  if (type == SOCK_STREAM) {
    EXPECT_EQ(::listen(fd.get(), 1), 0) << std::strerror(errno);
  }
  return fd;
}

class RecordEgressTest : public BpfProgTest {
 protected:
  void SetUp() override {
    BpfProgTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_OK_INTO(prog_, linked_program(std::string(kernel::FlowRecorder::kDir) + "/" +
                                         kernel::FlowRecorder::kEgressLinkPin));
    ASSERT_OK_INTO(seen_, recorder_->flows());
    ASSERT_TRUE(seen_->empty());
  }

  // An egress packet on up0 with this mark.
  Row sent(std::string name, ByteView ip, uint32_t mark, std::string want) const {
    return {std::move(name), packet::frame(kOtherHostMac, ip), {.mark = mark, .ifindex = up0_}, std::move(want)};
  }

  // "pass" / "drop", then each flows entry the run added ("+tcp 10.8.0.1:1 -> 10.8.0.2:2 =
  // 0x00070000"), changed ("~... = new (was old)") or removed ("-...").
  std::string recorded(const SkbRun& run, const Row& row) {
    std::string text = cgroup_skb_verdict(run, row);
    auto now = recorder_->flows();
    if (!now.ok()) return text + ", flows unreadable: " + now.error().message;
    for (const auto& [flow, mark] : *now) {
      auto before = seen_->find(flow);
      if (before == seen_->end()) text += ", +" + entry(flow, mark);
      else if (before->second != mark) text += ", ~" + entry(flow, mark) + " (was " + kernel::hex32(before->second) + ")";
    }
    for (const auto& [flow, mark] : *seen_)
      if (!now->contains(flow)) text += ", -" + entry(flow, mark);
    seen_ = std::move(now).value();
    return text;
  }

  std::optional<BpfProgram> prog_;
  std::optional<std::map<RecordedFlow, uint32_t>> seen_;  // flows as of the last row
};

// "+<proto> <src>:<sport> -> <dst>:<dport> = <mark>", the text recorded() makes of a new entry.
std::string added(const char* proto, const std::string& src, int sport, const std::string& dst, int dport,
                  uint32_t mark) {
  auto endpoint = [](const std::string& a, int port) {
    return (a.find(':') != std::string::npos ? "[" + a + "]" : a) + ":" + std::to_string(port);
  };
  return std::string(", +") + proto + " " + endpoint(src, sport) + " -> " + endpoint(dst, dport) + " = " +
         kernel::hex32(mark);
}

TEST_F(RecordEgressTest, MarkedPacketsRecordTheirFlow) {
  const uint32_t a = kAliceMark;
  const Bytes syn = packet::tcp_packet(kLocal4, 41000, kFar4, 80);
  auto describe = [this](const SkbRun& run, const Row& row) { return recorded(run, row); };
  run_table(*prog_, {
      sent("unmarked TCP SYN", syn, 0, "pass"),
      sent("TCP SYN with only bits outside the mask", syn, kRawFlag | 1, "pass"),
      sent("alice's TCP SYN", syn, a, "pass" + added("tcp", kLocal4, 41000, kFar4, 80, a)),
      sent("alice's TCP SYN again (a known flow)", syn, a, "pass"),
      sent("alice's TCP SYN with bits outside the mask (recorded as the slice)",
           packet::tcp_packet(kLocal4, 41002, kFar4, 80), a | 1, "pass" + added("tcp", kLocal4, 41002, kFar4, 80, a)),
      sent("alice's IPv6 UDP packet", packet::udp_packet(kLocal6, 41001, kFar6, 53), a,
           "pass" + added("udp", kLocal6, 41001, kFar6, 53, a)),
      sent("alice's echo request (the id is both ports)", packet::echo_packet(kLocal4, kFar4, true, 99), a,
           "pass" + added("icmp", kLocal4, 99, kFar4, 99, a)),
      sent("alice's ICMPv6 echo request", packet::echo_packet(kLocal6, kFar6, true, 98), a,
           "pass" + added("icmpv6", kLocal6, 98, kFar6, 98, a)),
      sent("alice's ICMP port unreachable (no ports)",
           packet::ipv4(kLocal4, kFar4, IPPROTO_ICMP, packet::icmp_error(3, 3, packet::udp_packet(kFar4, 1, kLocal4, 2))),
           a, "pass" + added("icmp", kLocal4, 0, kFar4, 0, a)),
      sent("non-first fragment of alice's UDP packet (no ports)",
           packet::ipv4(kLocal4, kFar4, IPPROTO_UDP, packet::udp(41003, 53), {.fragment_offset = 2}), a,
           "pass" + added("udp", kLocal4, 0, kFar4, 0, a)),
      sent("alice's TCP packet cut after the source port (no ports)", packet::truncated(syn, 22), a,
           "pass" + added("tcp", kLocal4, 0, kFar4, 0, a)),
      sent("alice's IPv6 UDP behind a hop-by-hop header (first next header, no ports)",
           packet::ipv6_hop_by_hop(kLocal6, kFar6, IPPROTO_UDP, packet::udp(41004, 53)), a,
           "pass" + added("proto 0", kLocal6, 0, kFar6, 0, a)),
      sent("alice-marked ARP frame (not IP)", packet::arp_request(kLocal4, kFar4), a, "pass"),
      sent("alice-marked IPv4 header with IHL 4", [&] { Bytes p = syn; p[0] = 0x44; return p; }(), a, "pass"),
      sent("bob's TCP SYN on alice's tuple (an ordinary socket: the tuple changed hands)", syn, kBobMark,
           "pass, ~" + entry({IPPROTO_TCP, *IpAddress::parse(kLocal4), 41000, *IpAddress::parse(kFar4), 80}, kBobMark) +
               " (was " + kernel::hex32(a) + ")"),
  }, describe);
}

// A raw socket (raw_flag) must not inject into another slice's flow or port, nor into a port
// any other socket holds; its other packets are recorded like any.
TEST_F(RecordEgressTest, RawPacketsIntoOthersFlowsOrPortsAreDropped) {
  const uint32_t a = kAliceMark, raw = kAliceMark | kRawFlag;
  put_flow(IPPROTO_TCP, kLocal4, 42000, kFar4, 80, kBobMark);
  put_port(IPPROTO_TCP, kLocal4, 8081, kBobMark);
  put_port(IPPROTO_UDP, "", 5300, kBobMark);
  put_port(IPPROTO_TCP, kLocal4, 2222, kAliceMark);
  ASSERT_OK_INTO(seen_, recorder_->flows());
  UniqueFd listener = bound_socket(SOCK_STREAM, kListenerPort);
  UniqueFd udp = bound_socket(SOCK_DGRAM, kUdpBoundPort);
  auto describe = [this](const SkbRun& run, const Row& row) { return recorded(run, row); };
  run_table(*prog_, {
      sent("alice's raw TCP SYN on a new flow", packet::tcp_packet(kLocal4, 43000, kFar4, 80), raw,
           "pass" + added("tcp", kLocal4, 43000, kFar4, 80, a)),
      sent("alice's raw TCP packet into bob's flow", packet::tcp_packet(kLocal4, 42000, kFar4, 80), raw, "drop"),
      sent("alice's raw TCP packet from bob's bound 10.8.0.1:8081", packet::tcp_packet(kLocal4, 8081, kFar4, 80), raw,
           "drop"),
      sent("alice's raw UDP packet from bob's wildcard port 5300", packet::udp_packet(kLocal4, 5300, kFar4, 53), raw,
           "drop"),
      sent("alice's raw IPv6 UDP packet from bob's wildcard port 5300",
           packet::udp_packet(kLocal6, 5300, kFar6, 53), raw, "drop"),
      sent("alice's raw TCP packet from the port of root's listener",
           packet::tcp_packet(kLocal4, kListenerPort, kFar4, 80, packet::kTcpAck), raw, "drop"),
      sent("alice's raw UDP packet from the port of root's bound UDP socket",
           packet::udp_packet(kLocal4, kUdpBoundPort, kFar4, 53), raw, "drop"),
      sent("alice's raw TCP packet from her own bound port 2222", packet::tcp_packet(kLocal4, 2222, kFar4, 80), raw,
           "pass" + added("tcp", kLocal4, 2222, kFar4, 80, a)),
      sent("alice's raw echo request (no ports: nothing to check)", packet::echo_packet(kLocal4, kFar4, true, 42000),
           raw, "pass" + added("icmp", kLocal4, 42000, kFar4, 42000, a)),
      sent("alice's unflagged TCP packet from the port of root's listener (the socket layer's business)",
           packet::tcp_packet(kLocal4, kListenerPort, kFar4, 81), a,
           "pass" + added("tcp", kLocal4, kListenerPort, kFar4, 81, a)),
  }, describe);
}

// What record_egress records is what slice_filter looks up: the replies to alice's recorded
// packets are kept by her filter, not by bob's (the two programs share the parser in
// bpf/raw_flow.h; this holds them to the same key).
TEST_F(RecordEgressTest, AReplyToARecordedFlowIsKept) {
  auto describe = [this](const SkbRun& run, const Row& row) { return recorded(run, row); };
  const uint32_t a = kAliceMark;
  run_table(*prog_, {
      sent("alice's TCP SYN", packet::tcp_packet(kLocal4, 44000, kFar4, 80), a,
           "pass" + added("tcp", kLocal4, 44000, kFar4, 80, a)),
      sent("alice's IPv6 UDP packet", packet::udp_packet(kLocal6, 44001, kFar6, 53), a,
           "pass" + added("udp", kLocal6, 44001, kFar6, 53, a)),
      sent("alice's echo request", packet::echo_packet(kLocal4, kFar4, true, 4400), a,
           "pass" + added("icmp", kLocal4, 4400, kFar4, 4400, a)),
  }, describe);
  const std::vector<Row> replies = {
      up0("SYN-ACK to alice's recorded SYN", packet::tcp_packet(kFar4, 80, kLocal4, 44000, 0x12), ""),
      up0("reply to alice's recorded IPv6 UDP packet", packet::udp_packet(kFar6, 53, kLocal6, 44001), ""),
      up0("echo reply to alice's recorded echo request", packet::echo_packet(kFar4, kLocal4, false, 4400), ""),
  };
  auto alice = slice_filter(kAliceMark);
  ASSERT_OK(alice);
  auto bob = slice_filter(kBobMark);
  ASSERT_OK(bob);
  run_table(*alice, expecting(replies, "keep", "alice's filter"), socket_filter_verdict);
  run_table(*bob, expecting(replies, "drop", "bob's filter"), socket_filter_verdict);
}

// Only netd's netns is recorded: run from another netns, nothing is.
TEST_F(RecordEgressTest, PacketsOfAnotherNetnsAreNotRecorded) {
  auto other = Netns::create();
  ASSERT_OK(other);
  auto in_other = other->enter();
  ASSERT_OK(in_other);
  auto describe = [this](const SkbRun& run, const Row& row) { return recorded(run, row); };
  run_table(*prog_, {
      {"alice's TCP SYN in another netns",
       packet::frame(kOtherHostMac, packet::tcp_packet(kLocal4, 41000, kFar4, 80)), {.mark = kAliceMark}, "pass"},
      {"alice's raw TCP SYN in another netns",
       packet::frame(kOtherHostMac, packet::tcp_packet(kLocal4, 41000, kFar4, 80)), {.mark = kAliceMark | kRawFlag},
       "pass"},
  }, describe);
}

}  // namespace
}  // namespace netd::testing
