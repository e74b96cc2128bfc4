// raw_decision: every verdict of io.netd.Sockets (raw, packet, capture, flow log), without a kernel.
#include "netd/policy/raw_decision.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>

#include "netd/policy/loader.h"
#include "tests/fixtures/test_macros.h"

namespace netd::policy {
namespace {

// alice (7): every kind; bob (8): icmp and udp only; mon (9): a monitor without raw kinds.
constexpr const char* kPolicy = R"(
[netd]
mark_mask = 0x0fff0000
raw_flag = 0x10000000
uplinks = ["eth0", "eth1"]
flowlog_group = 0x4e00

[[slice]]
name = "alice"
id = 7
uids = [1001]
raw = ["icmp", "icmpv6", "udp", "tcp", "packet"]

[[slice]]
name = "bob"
id = 8
uids = [1002]
raw = ["icmp", "udp"]

[[slice]]
name = "mon"
id = 9
uids = [1003]
capture_all = true
)";

class RawDecision : public ::testing::Test {
 protected:
  void SetUp() override {
    auto parsed = parse_policy(kPolicy, "test.toml");
    ASSERT_OK(parsed);
    policy_ = std::move(parsed).value();
    alice_ = policy_.find_by_name("alice");
    bob_ = policy_.find_by_name("bob");
    mon_ = policy_.find_by_name("mon");
  }

  static RawDeviceFacts device(uint32_t ifindex, bool vif = false, uint32_t owner = 0) {
    return RawDeviceFacts{true, ifindex, vif, owner};
  }

  Policy policy_;
  const SliceSpec* alice_ = nullptr;
  const SliceSpec* bob_ = nullptr;
  const SliceSpec* mon_ = nullptr;
};

constexpr uint32_t kAliceRawMark = 0x00070000 | 0x10000000;

// --- Kinds ---

TEST(RawKind, NamesMatchThePolicyWords) {
  EXPECT_STREQ(raw_kind_name(RawKind::kIcmp), "icmp");
  EXPECT_STREQ(raw_kind_name(RawKind::kIcmpv6), "icmpv6");
  EXPECT_STREQ(raw_kind_name(RawKind::kUdp), "udp");
  EXPECT_STREQ(raw_kind_name(RawKind::kTcp), "tcp");
  EXPECT_STREQ(raw_kind_name(RawKind::kPacket), "packet");
}

// --- Raw IP sockets ---

TEST_F(RawDecision, RawKindsOfEachFamily) {
  struct Case {
    int domain;
    int ipproto;
    RawKind kind;
  };
  for (const Case& c : {Case{AF_INET, IPPROTO_ICMP, RawKind::kIcmp}, Case{AF_INET6, IPPROTO_ICMPV6, RawKind::kIcmpv6},
                        Case{AF_INET, IPPROTO_UDP, RawKind::kUdp}, Case{AF_INET6, IPPROTO_UDP, RawKind::kUdp},
                        Case{AF_INET, IPPROTO_TCP, RawKind::kTcp}, Case{AF_INET6, IPPROTO_TCP, RawKind::kTcp}}) {
    SCOPED_TRACE(std::to_string(c.domain) + " " + std::to_string(c.ipproto));
    auto v = decide_raw_socket(policy_, *alice_, {c.domain, c.ipproto});
    ASSERT_OK(v);
    EXPECT_EQ(v->domain, c.domain);
    EXPECT_EQ(v->protocol, c.ipproto);
    EXPECT_EQ(v->kind, c.kind);
    EXPECT_EQ(v->mark, kAliceRawMark);
    EXPECT_EQ(raw_kind_protocol(c.kind), c.ipproto);
  }
}

TEST_F(RawDecision, RawMarkIsSliceMarkWithRawFlag) {
  EXPECT_EQ(raw_socket_mark(policy_, *alice_), kAliceRawMark);
  EXPECT_EQ(raw_socket_mark(policy_, *bob_), 0x10080000u);
}

TEST_F(RawDecision, RawKindNotInPolicyIsRefusedNamingThePolicy) {
  auto r = decide_raw_socket(policy_, *bob_, {AF_INET, IPPROTO_TCP});
  EXPECT_ERR(r, EPERM, "^raw tcp sockets are not allowed for slice bob \\(policy raw = \\[\"icmp\", \"udp\"\\]\\)$");
  EXPECT_EQ(r.error().kind, ErrorKind::kPermissionDenied);
  EXPECT_ERR(decide_raw_socket(policy_, *bob_, {AF_INET6, IPPROTO_ICMPV6}), EPERM,
             "raw icmpv6 sockets are not allowed for slice bob");
  EXPECT_ERR(decide_raw_socket(policy_, *mon_, {AF_INET, IPPROTO_ICMP}), EPERM, "slice mon \\(policy raw = \\[\\]\\)");
  EXPECT_OK(decide_raw_socket(policy_, *bob_, {AF_INET6, IPPROTO_UDP}));
}

TEST_F(RawDecision, IcmpGoesWithItsOwnFamily) {
  auto r = decide_raw_socket(policy_, *alice_, {AF_INET6, IPPROTO_ICMP});
  EXPECT_ERR(r, EINVAL, "^icmp goes with family inet, not inet6 \\(use icmpv6\\)$");
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_ERR(decide_raw_socket(policy_, *alice_, {AF_INET, IPPROTO_ICMPV6}), EINVAL,
             "^icmpv6 goes with family inet6, not inet \\(use icmp\\)$");
  EXPECT_ERR(decide_raw_socket(policy_, *alice_, {AF_INET, 58}), EINVAL, "icmpv6 goes with family inet6");
  // The family mismatch is reported before the policy: it is wrong for everyone.
  EXPECT_ERR(decide_raw_socket(policy_, *mon_, {AF_INET6, 1}), EINVAL, "icmp goes with family inet");
}

TEST_F(RawDecision, OtherProtocolsAreNeverHandedOut) {
  for (int protocol : {0, 2, 4, 41, 47, 50, 132, 254})
    EXPECT_ERR(decide_raw_socket(policy_, *alice_, {AF_INET6, protocol}), EPERM,
               "raw sockets of protocol " + std::to_string(protocol) + " are not handed out");
}

// IPPROTO_RAW sends any IP protocol (header-include): only for a slice holding every raw IP kind
// of the family.
TEST_F(RawDecision, IpprotoRawNeedsEveryIpKindOfTheFamily) {
  for (int domain : {AF_INET, AF_INET6}) {
    auto v = decide_raw_socket(policy_, *alice_, {domain, IPPROTO_RAW});
    ASSERT_OK(v);
    EXPECT_EQ(v->domain, domain);
    EXPECT_EQ(v->protocol, IPPROTO_RAW);
    EXPECT_FALSE(v->kind.has_value());
    EXPECT_EQ(v->mark, kAliceRawMark);
  }
  auto r = decide_raw_socket(policy_, *bob_, {AF_INET, IPPROTO_RAW});
  EXPECT_ERR(r, EPERM,
             "^raw sockets of protocol 255 \\(IPPROTO_RAW: header-include, any IP protocol\\) need every raw inet "
             "kind \\(icmp, udp, tcp\\); slice bob lacks tcp \\(policy raw = \\[\"icmp\", \"udp\"\\]\\)$");
  EXPECT_EQ(r.error().kind, ErrorKind::kPermissionDenied);
  EXPECT_ERR(decide_raw_socket(policy_, *bob_, {AF_INET6, IPPROTO_RAW}), EPERM,
             "need every raw inet6 kind \\(icmpv6, udp, tcp\\); slice bob lacks icmpv6, tcp ");
  EXPECT_ERR(decide_raw_socket(policy_, *mon_, {AF_INET, IPPROTO_RAW}), EPERM, "slice mon lacks icmp, udp, tcp ");
}

// --- Packet sockets ---

TEST_F(RawDecision, PacketDefaultsToAllProtocolsOnAllDevices) {
  auto v = decide_packet_socket(policy_, *alice_, std::nullopt, std::nullopt, RawDeviceFacts{});
  ASSERT_OK(v);
  EXPECT_EQ(v->ethertype, kEthPAll);
  EXPECT_EQ(v->ifname, "");
  EXPECT_EQ(v->ifindex, 0u);
  EXPECT_EQ(v->mark, kAliceRawMark);
}

TEST_F(RawDecision, PacketWithEthertypeAndDevice) {
  auto v = decide_packet_socket(policy_, *alice_, 0x0806, "eth0", device(2));
  ASSERT_OK(v);
  EXPECT_EQ(v->ethertype, 0x0806);
  EXPECT_EQ(v->ifname, "eth0");
  EXPECT_EQ(v->ifindex, 2u);
  EXPECT_OK(decide_packet_socket(policy_, *alice_, 1, "lo", device(1)));
  EXPECT_OK(decide_packet_socket(policy_, *alice_, 0xffff, "eth0", device(2)));
}

TEST_F(RawDecision, PacketNeedsThePacketKind) {
  auto r = decide_packet_socket(policy_, *bob_, std::nullopt, std::nullopt, RawDeviceFacts{});
  EXPECT_ERR(r, EPERM, "^packet sockets are not allowed for slice bob \\(policy raw = \\[\"icmp\", \"udp\"\\]\\)$");
  EXPECT_EQ(r.error().kind, ErrorKind::kPermissionDenied);
  // Checked first: a slice without the kind learns nothing about devices.
  EXPECT_ERR(decide_packet_socket(policy_, *bob_, 3, "nosuch0", RawDeviceFacts{}), EPERM, "packet sockets are not allowed");
}

TEST_F(RawDecision, PacketEthertypeOutOfRange) {
  for (int64_t ethertype : {int64_t{-1}, int64_t{0x10000}, int64_t{1} << 40}) {
    auto r = decide_packet_socket(policy_, *alice_, ethertype, std::nullopt, RawDeviceFacts{});
    EXPECT_ERR(r, EINVAL, "is not an ethertype 0..65535");
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
  }
}

// What libpcap opens first: a socket that receives nothing until its bind() names a protocol.
TEST_F(RawDecision, PacketProtocolZeroIsUnbound) {
  auto r = decide_packet_socket(policy_, *alice_, 0, std::nullopt, RawDeviceFacts{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->ethertype, 0);
  EXPECT_EQ(r->ifindex, 0u);
}

TEST_F(RawDecision, PacketUnknownDevice) {
  auto r = decide_packet_socket(policy_, *alice_, std::nullopt, "eth9", RawDeviceFacts{});
  EXPECT_ERR(r, ENODEV, "^no device eth9$");
  EXPECT_EQ(r.error().kind, ErrorKind::kNotFound);
}

TEST_F(RawDecision, PacketMalformedDeviceName) {
  for (const char* name : {"", "eth/0", "a:b", "with space", "1234567890123456", ".."}) {
    SCOPED_TRACE(name);
    auto r = decide_packet_socket(policy_, *alice_, std::nullopt, name, device(3));
    EXPECT_ERR(r, EINVAL, "ifname");
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
  }
  auto huge = decide_packet_socket(policy_, *alice_, std::nullopt, std::string(4096, 'e'), device(3));
  ASSERT_FALSE(huge.ok());
  EXPECT_LT(huge.error().message.size(), 120u);
}

TEST_F(RawDecision, PacketOnOwnVif) {
  auto v = decide_packet_socket(policy_, *alice_, std::nullopt, "tap7-0", device(12, true, 7));
  ASSERT_OK(v);
  EXPECT_EQ(v->ifindex, 12u);
}

TEST_F(RawDecision, PacketOnAnotherSlicesVifIsRefused) {
  auto r = decide_packet_socket(policy_, *alice_, std::nullopt, "tap8-0", device(13, true, 8));
  EXPECT_ERR(r, EPERM, "^tap8-0 is a vif of another slice; slice alice may bind packet sockets to its own vifs "
                       "\\(tun7-<n>, tap7-<n>\\)");
  EXPECT_EQ(r.error().kind, ErrorKind::kPermissionDenied);
  // By the registry even when the name says otherwise, and by the name when the registry does not know it yet.
  EXPECT_ERR(decide_packet_socket(policy_, *alice_, std::nullopt, "tap7-3", device(14, true, 8)), EPERM, "another slice");
  EXPECT_ERR(decide_packet_socket(policy_, *alice_, std::nullopt, "tun8-1", device(15)), EPERM, "another slice");
  // A vif whose owner is no longer in the policy is nobody's to take.
  EXPECT_ERR(decide_packet_socket(policy_, *alice_, std::nullopt, "tun99-0", device(16, true, 0)), EPERM,
             "another slice");
  // Names that only look similar are ordinary devices.
  EXPECT_OK(decide_packet_socket(policy_, *alice_, std::nullopt, "tap08-0", device(17)));
  EXPECT_OK(decide_packet_socket(policy_, *alice_, std::nullopt, "tunnel0", device(18)));
}

// --- Capture ---

TEST_F(RawDecision, CaptureOnAnUplink) {
  auto v = decide_capture(policy_, *mon_, "eth1");
  ASSERT_OK(v);
  EXPECT_EQ(v->ifname, "eth1");
  EXPECT_EQ(v->mark, 0x00090000u | 0x10000000u);
}

TEST_F(RawDecision, CaptureNeedsAMonitor) {
  for (const SliceSpec* s : {alice_, bob_}) {
    auto r = decide_capture(policy_, *s, "eth0");
    EXPECT_ERR(r, EPERM, "^slice " + s->name + " is not a monitor \\(capture_all = false\\)$");
    EXPECT_EQ(r.error().kind, ErrorKind::kPermissionDenied);
  }
}

TEST_F(RawDecision, CaptureOnlyOnUplinks) {
  auto r = decide_capture(policy_, *mon_, "lo");
  EXPECT_ERR(r, EPERM, "^lo is not an uplink: monitors capture on the uplinks only \\(\\[netd\\] uplinks: eth0, eth1\\)$");
  EXPECT_EQ(r.error().kind, ErrorKind::kPermissionDenied);
  EXPECT_ERR(decide_capture(policy_, *mon_, "tap7-0"), EPERM, "is not an uplink");
  EXPECT_ERR(decide_capture(policy_, *mon_, "eth/0"), EINVAL, "ifname");
  EXPECT_ERR(decide_capture(policy_, *mon_, ""), EINVAL, "ifname");
  Policy no_uplinks = policy_;
  no_uplinks.netd.uplinks.clear();
  EXPECT_ERR(decide_capture(no_uplinks, *no_uplinks.find_by_name("mon"), "eth0"), EPERM, "uplinks: none");
}

// --- Flow log ---

TEST_F(RawDecision, FlowLogGroupIsBasePlusSliceId) {
  auto v = decide_flowlog(policy_, *mon_);
  ASSERT_OK(v);
  EXPECT_EQ(v->group, 0x4e00 + 9);
  EXPECT_EQ(v->mark_mask, 0x0fff0000u);
  EXPECT_EQ(v->mark_shift, 16);
  EXPECT_EQ(flowlog_group_of(policy_, *alice_), 0x4e00u + 7);
}

TEST_F(RawDecision, FlowLogNamesEverySliceOfThePolicy) {
  auto v = decide_flowlog(policy_, *mon_);
  ASSERT_OK(v);
  std::vector<SliceName> expected;
  for (const SliceSpec& s : policy_.slices) expected.push_back({s.id, s.name});
  EXPECT_EQ(v->slices, expected);
  EXPECT_NE(std::find(v->slices.begin(), v->slices.end(), SliceName{7, "alice"}), v->slices.end());
  EXPECT_NE(std::find(v->slices.begin(), v->slices.end(), SliceName{9, "mon"}), v->slices.end());
}

TEST_F(RawDecision, FlowLogNeedsAMonitor) {
  auto r = decide_flowlog(policy_, *alice_);
  EXPECT_ERR(r, EPERM, "^slice alice is not a monitor \\(capture_all = false\\)$");
  EXPECT_EQ(r.error().kind, ErrorKind::kPermissionDenied);
}

TEST_F(RawDecision, FlowLogGroupBeyond16BitsIsRefusedForAnUnvalidatedPolicy) {
  Policy wide = policy_;
  wide.netd.flowlog_group = 0xfffe;
  EXPECT_ERR(decide_flowlog(wide, *wide.find_by_name("mon")), ERANGE, "above 65535");
}

// --- Reloads ---

TEST_F(RawDecision, RightsCutOnlyWhenAKindOrCaptureAllGoes) {
  SliceSpec fewer = *alice_;
  EXPECT_FALSE(raw_rights_cut(*alice_, fewer)) << "the same rights";
  fewer.raw = {"icmp", "icmpv6", "udp", "tcp"};
  EXPECT_TRUE(raw_rights_cut(*alice_, fewer)) << "packet taken away";
  EXPECT_FALSE(raw_rights_cut(fewer, *alice_)) << "packet given";
  SliceSpec reordered = *alice_;
  reordered.raw = {"packet", "tcp", "udp", "icmpv6", "icmp"};
  EXPECT_FALSE(raw_rights_cut(*alice_, reordered)) << "the same kinds in another order";

  SliceSpec no_capture = *mon_;
  no_capture.capture_all = false;
  EXPECT_TRUE(raw_rights_cut(*mon_, no_capture)) << "capture_all taken away";
  EXPECT_FALSE(raw_rights_cut(no_capture, *mon_)) << "capture_all given";
  SliceSpec more = *bob_;
  more.raw.push_back("tcp");
  EXPECT_FALSE(raw_rights_cut(*bob_, more)) << "a kind added";
}

}  // namespace
}  // namespace netd::policy
