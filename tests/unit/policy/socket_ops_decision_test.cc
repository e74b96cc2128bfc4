// socket_ops_decision: whose socket a passed fd is, the option values a slice may set, and the
// binds netd makes for it.
#include "netd/policy/socket_ops_decision.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <climits>

#include "netd/policy/loader.h"
#include "tests/fixtures/test_macros.h"

namespace netd::policy {
namespace {

constexpr const char* kPolicy = R"(
[netd]
mark_mask = 0x0fff0000
raw_flag = 0x10000000

[[slice]]
name = "alice"
id = 7
uids = [1001, 1005]
max_sockbuf = "32MiB"
max_priority = 6
bind_ports = ["80", "5000-5010"]

[[slice]]
name = "bob"
id = 8
uids = [1002]
max_sockbuf = "2GiB"
)";

class SocketOpsDecision : public ::testing::Test {
 protected:
  void SetUp() override {
    auto parsed = parse_policy(kPolicy, "test.toml");
    ASSERT_OK(parsed);
    policy_ = std::move(parsed).value();
    alice_ = policy_.find_by_name("alice");
    bob_ = policy_.find_by_name("bob");
  }
  Policy policy_;
  const SliceSpec* alice_ = nullptr;
  const SliceSpec* bob_ = nullptr;
};

constexpr uint32_t kAliceMark = 0x00070000;

TEST_F(SocketOpsDecision, OptionWords) {
  for (SocketOption o : {SocketOption::kRcvBufForce, SocketOption::kSndBufForce, SocketOption::kPriority})
    EXPECT_EQ(*parse_socket_option(socket_option_name(o)), o);
  auto r = parse_socket_option("SO_RCVBUFFORCE");
  EXPECT_ERR(r, EINVAL, "^option 'SO_RCVBUFFORCE' is not offered: rcvbufforce, sndbufforce or priority$");
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_LT(parse_socket_option(std::string(500, 'x')).error().message.size(), 120u);
}

TEST_F(SocketOpsDecision, TheCallersOwnMarkedSocket) {
  EXPECT_OK(decide_socket_owner(policy_, *alice_, 1001, {1001, kAliceMark}));
  // Other mark bits (a program's own SO_MARK bits outside the mask) do not matter.
  EXPECT_OK(decide_socket_owner(policy_, *alice_, 1001, {1001, kAliceMark | 0x5}));
}

TEST_F(SocketOpsDecision, ASocketNetdHandedToTheSlice) {
  EXPECT_OK(decide_socket_owner(policy_, *alice_, 1001, {0, kAliceMark | 0x10000000}));
  // Root's socket without the slice's raw mark is root's.
  EXPECT_ERR(decide_socket_owner(policy_, *alice_, 1001, {0, kAliceMark}), EPERM,
             "^the socket belongs to uid 0, not to uid 1001: only the caller's own sockets are changed$");
  EXPECT_ERR(decide_socket_owner(policy_, *alice_, 1001, {0, 0x00080000 | 0x10000000}), EPERM, "uid 0");
}

TEST_F(SocketOpsDecision, AnotherUidsSocketIsRefusedEvenInTheSameSlice) {
  auto r = decide_socket_owner(policy_, *alice_, 1001, {1005, kAliceMark});
  EXPECT_ERR(r, EPERM, "^the socket belongs to uid 1005, not to uid 1001");
  EXPECT_EQ(r.error().kind, ErrorKind::kPermissionDenied);
  EXPECT_ERR(decide_socket_owner(policy_, *alice_, 1001, {1002, 0x00080000}), EPERM, "uid 1002");
}

TEST_F(SocketOpsDecision, AnUnmarkedOrForeignMarkedSocketIsRefused) {
  EXPECT_ERR(decide_socket_owner(policy_, *alice_, 1001, {1001, 0}), EPERM,
             "^the socket carries mark 0x0, not slice alice's \\(0x70000\\): it was made outside the slice$");
  EXPECT_ERR(decide_socket_owner(policy_, *alice_, 1001, {1001, 0x00080000}), EPERM, "carries mark 0x80000");
}

TEST_F(SocketOpsDecision, BuffersUpToMaxSockbuf) {
  EXPECT_EQ(*decide_socket_option(*alice_, SocketOption::kRcvBufForce, 2 << 20), 2 << 20);
  EXPECT_EQ(*decide_socket_option(*alice_, SocketOption::kSndBufForce, 32 << 20), 32 << 20);
  EXPECT_EQ(*decide_socket_option(*alice_, SocketOption::kRcvBufForce, 0), 0);
  auto r = decide_socket_option(*alice_, SocketOption::kRcvBufForce, 64 << 20);
  EXPECT_ERR(r, EPERM, "^rcvbufforce 67108864 is above slice alice's max_sockbuf \\(32MiB\\)$");
  EXPECT_EQ(r.error().kind, ErrorKind::kPermissionDenied);
  EXPECT_ERR(decide_socket_option(*alice_, SocketOption::kSndBufForce, (32 << 20) + 1), EPERM, "sndbufforce");
}

TEST_F(SocketOpsDecision, TheDefaultCeilingIsFourMiB) {
  policy::SliceSpec plain;
  plain.name = "plain";
  EXPECT_OK(decide_socket_option(plain, SocketOption::kRcvBufForce, 4 << 20));
  EXPECT_ERR(decide_socket_option(plain, SocketOption::kRcvBufForce, (4 << 20) + 1), EPERM, "\\(4MiB\\)");
  EXPECT_ERR(decide_socket_option(plain, SocketOption::kPriority, 1), EPERM, "max_priority \\(0\\)");
}

TEST_F(SocketOpsDecision, NoBufferBeyondWhatTheKernelTakes) {
  EXPECT_EQ(*decide_socket_option(*bob_, SocketOption::kRcvBufForce, INT_MAX), INT_MAX);
  auto r = decide_socket_option(*bob_, SocketOption::kRcvBufForce, int64_t{INT_MAX} + 1);  // = bob's 2GiB
  EXPECT_ERR(r, EINVAL, "is more than the kernel takes \\(2147483647\\)");
}

TEST_F(SocketOpsDecision, PriorityUpToMaxPriority) {
  EXPECT_EQ(*decide_socket_option(*alice_, SocketOption::kPriority, 6), 6);
  EXPECT_EQ(*decide_socket_option(*alice_, SocketOption::kPriority, 0), 0);
  EXPECT_ERR(decide_socket_option(*alice_, SocketOption::kPriority, 7), EPERM,
             "^priority 7 is above slice alice's max_priority \\(6\\)$");
}

TEST_F(SocketOpsDecision, NegativeValuesAreInvalid) {
  for (SocketOption o : {SocketOption::kRcvBufForce, SocketOption::kSndBufForce, SocketOption::kPriority}) {
    auto r = decide_socket_option(*alice_, o, -1);
    EXPECT_ERR(r, EINVAL, std::string("^") + socket_option_name(o) + " -1 is negative$");
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
  }
}

// ---- Bind ----

constexpr uint32_t kBobMark = 0x00080000;
constexpr uint64_t kNetdNetns = 4242;

IpAddress ip(const char* text) { return IpAddress::parse(text).value(); }
BindRequest bind_to(const char* address, uint16_t port) { return {ip(address), port}; }
// alice's (uid 1001) tagged TCP socket in netd's netns.
SocketFacts tcp4(uint32_t mark = kAliceMark, uid_t owner = 1001) {
  return {owner, mark, AF_INET, SOCK_STREAM, kNetdNetns, IPPROTO_TCP};
}

TEST_F(SocketOpsDecision, BindRequestWords) {
  auto r = parse_bind_request("10.0.1.1", 80);
  ASSERT_OK(r);
  EXPECT_EQ(r->address, ip("10.0.1.1"));
  EXPECT_EQ(r->port, 80);
  EXPECT_EQ(parse_bind_request("::", 65535)->port, 65535);
  EXPECT_ERR(parse_bind_request("10.0.1.300", 80), EINVAL, "^address '10.0.1.300' is not an IP address$");
  EXPECT_ERR(parse_bind_request("10.0.1.0/24", 80), EINVAL, "is not an IP address");
  EXPECT_ERR(parse_bind_request(std::string(300, 'a'), 80), EINVAL, "\\.\\.\\.' is not an IP address$");
  for (int64_t port : {int64_t{0}, int64_t{-1}, int64_t{65536}, int64_t{1} << 40}) {
    auto bad = parse_bind_request("0.0.0.0", port);
    EXPECT_ERR(bad, EINVAL, "^port " + std::to_string(port) + " is not a port 1\\.\\.65535$");
    EXPECT_EQ(bad.error().kind, ErrorKind::kInvalidArgument);
  }
}

TEST_F(SocketOpsDecision, BindLookupAddressUnmapsIpv4MappedOnly) {
  EXPECT_EQ(bind_lookup_address(ip("::ffff:10.7.0.1")), ip("10.7.0.1"));
  EXPECT_EQ(bind_lookup_address(ip("fd07::1")), ip("fd07::1"));
  EXPECT_EQ(bind_lookup_address(ip("::ffff:0:10.7.0.1")), ip("::ffff:0:10.7.0.1"));  // not mapped
  EXPECT_EQ(bind_lookup_address(ip("10.7.0.1")), ip("10.7.0.1"));
}

TEST_F(SocketOpsDecision, BindGrantsTheSlicesPortsOnItsOwnSockets) {
  // Tagged already: the mark stays (0).
  EXPECT_EQ(*decide_socket_bind(policy_, *alice_, 1001, tcp4(), kNetdNetns, bind_to("0.0.0.0", 80), nullptr), 0u);
  EXPECT_EQ(*decide_socket_bind(policy_, *alice_, 1001, tcp4(kAliceMark | 0x5), kNetdNetns,
                                bind_to("10.0.1.1", 5010), nullptr),
            0u);
  SocketFacts udp6 = {1001, kAliceMark, AF_INET6, SOCK_DGRAM, kNetdNetns, IPPROTO_UDP};
  EXPECT_OK(decide_socket_bind(policy_, *alice_, 1001, udp6, kNetdNetns, bind_to("::", 5000), nullptr));
  EXPECT_OK(decide_socket_bind(policy_, *alice_, 1001, udp6, kNetdNetns, bind_to("::ffff:10.0.1.1", 80), nullptr));
  // An address of the slice's own vif.
  EXPECT_OK(decide_socket_bind(policy_, *alice_, 1001, tcp4(), kNetdNetns, bind_to("10.7.0.1", 80), alice_));
  // A socket netd handed to the slice (root's, the raw socket mark) counts as the slice's.
  EXPECT_OK(decide_socket_bind(policy_, *alice_, 1001, tcp4(kAliceMark | 0x10000000, 0), kNetdNetns,
                               bind_to("0.0.0.0", 80), nullptr));
}

TEST_F(SocketOpsDecision, BindGivesTheCallersUntaggedSocketTheSlicesMark) {
  EXPECT_EQ(*decide_socket_bind(policy_, *alice_, 1001, tcp4(0), kNetdNetns, bind_to("0.0.0.0", 80), nullptr),
            kAliceMark);
  // Untagged but another uid's (or root's): not the caller's.
  EXPECT_ERR(decide_socket_bind(policy_, *alice_, 1001, tcp4(0, 1002), kNetdNetns, bind_to("0.0.0.0", 80), nullptr),
             EPERM, "^the socket belongs to uid 1002, not to uid 1001");
  EXPECT_ERR(decide_socket_bind(policy_, *alice_, 1001, tcp4(0, 0), kNetdNetns, bind_to("0.0.0.0", 80), nullptr),
             EPERM, "belongs to uid 0");
  // The caller's socket tagged for another slice (made while it was in it): not this slice's.
  EXPECT_ERR(decide_socket_bind(policy_, *alice_, 1001, tcp4(kBobMark), kNetdNetns, bind_to("0.0.0.0", 80), nullptr),
             EPERM, "carries mark 0x80000, not slice alice's");
}

TEST_F(SocketOpsDecision, BindRefusesWhatIsNotATcpOrUdpInetSocket) {
  struct Kind {
    int domain;
    int type;
    int protocol;
    const char* error;
  };
  const Kind kinds[] = {
      {AF_INET, SOCK_RAW, IPPROTO_UDP, "^a SOCK_RAW socket is not bound through netd: only TCP and UDP sockets"},
      {AF_INET6, SOCK_SEQPACKET, IPPROTO_SCTP, "^a SOCK_SEQPACKET socket is not bound through netd"},
      {AF_PACKET, SOCK_RAW, 0, "^a socket of AF_PACKET is not bound through netd: only AF_INET and AF_INET6"},
      {AF_UNIX, SOCK_STREAM, 0, "^a socket of AF_UNIX is not bound through netd"},
      {AF_NETLINK, SOCK_DGRAM, 0, "^a socket of AF_NETLINK"},
      // A ping socket is a datagram socket, but not UDP; nor is an SCTP or MPTCP stream TCP.
      {AF_INET, SOCK_DGRAM, IPPROTO_ICMP,
       "^a SOCK_DGRAM socket of protocol 1 is not bound through netd: only TCP and UDP sockets$"},
      {AF_INET6, SOCK_STREAM, IPPROTO_SCTP, "^a SOCK_STREAM socket of protocol 132"},
      {AF_INET, SOCK_STREAM, IPPROTO_MPTCP, "^a SOCK_STREAM socket of protocol 262"},
  };
  for (const Kind& k : kinds) {
    SocketFacts s = {1001, kAliceMark, k.domain, k.type, kNetdNetns, k.protocol};
    auto r = decide_socket_bind(policy_, *alice_, 1001, s, kNetdNetns, bind_to("0.0.0.0", 80), nullptr);
    EXPECT_ERR(r, EOPNOTSUPP, k.error);
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
  }
}

TEST_F(SocketOpsDecision, BindRefusesASocketOfAnotherNetns) {
  auto r = decide_socket_bind(policy_, *alice_, 1001, tcp4(), kNetdNetns + 1, bind_to("0.0.0.0", 80), nullptr);
  EXPECT_ERR(r, EPERM, "^the socket was made in another network namespace than netd's: slice alice's bind_ports");
  EXPECT_EQ(r.error().kind, ErrorKind::kPermissionDenied);
}

TEST_F(SocketOpsDecision, BindRefusesAnAddressOfTheOtherFamily) {
  EXPECT_ERR(decide_socket_bind(policy_, *alice_, 1001, tcp4(), kNetdNetns, bind_to("::", 80), nullptr), EINVAL,
             "^address :: is IPv6 but the socket is AF_INET$");
  SocketFacts tcp6 = {1001, kAliceMark, AF_INET6, SOCK_STREAM, kNetdNetns, IPPROTO_TCP};
  EXPECT_ERR(decide_socket_bind(policy_, *alice_, 1001, tcp6, kNetdNetns, bind_to("10.0.1.1", 80), nullptr), EINVAL,
             "^address 10.0.1.1 is IPv4 but the socket is AF_INET6: give it as ::ffff:10.0.1.1");
}

TEST_F(SocketOpsDecision, BindRefusesAPortNotInBindPortsNamingTheList) {
  for (uint16_t port : {79, 81, 443, 4999, 5011}) {
    auto r = decide_socket_bind(policy_, *alice_, 1001, tcp4(), kNetdNetns, bind_to("0.0.0.0", port), nullptr);
    EXPECT_ERR(r, EPERM,
               "^port " + std::to_string(port) + " is not in slice alice's bind_ports \\(80, 5000-5010\\)$");
    EXPECT_EQ(r.error().kind, ErrorKind::kPermissionDenied);
  }
  SocketFacts bobs = {1002, kBobMark, AF_INET, SOCK_STREAM, kNetdNetns, IPPROTO_TCP};
  EXPECT_ERR(decide_socket_bind(policy_, *bob_, 1002, bobs, kNetdNetns, bind_to("0.0.0.0", 80), nullptr), EPERM,
             "^port 80 is not in slice bob's bind_ports \\(none\\)$");
}

TEST_F(SocketOpsDecision, BindRefusesAnotherSlicesVifAddress) {
  auto r = decide_socket_bind(policy_, *alice_, 1001, tcp4(), kNetdNetns, bind_to("10.8.0.1", 80), bob_);
  EXPECT_ERR(r, EPERM, "^address 10.8.0.1 is on a vif of slice bob: not slice alice's to bind$");
  EXPECT_EQ(r.error().kind, ErrorKind::kPermissionDenied);
  SocketFacts tcp6 = {1001, kAliceMark, AF_INET6, SOCK_STREAM, kNetdNetns, IPPROTO_TCP};
  EXPECT_ERR(decide_socket_bind(policy_, *alice_, 1001, tcp6, kNetdNetns, bind_to("::ffff:10.8.0.1", 80), bob_),
             EPERM, "is on a vif of slice bob");
}

}  // namespace
}  // namespace netd::policy
