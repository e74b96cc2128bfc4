// socket_request: the words of a Sockets.Raw request become a typed request, or the refusal
// socket(2) would give; the policy's verdict on the typed request is raw_decision_test's.
#include "netd/ops/socket_request.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

#include "tests/fixtures/test_macros.h"

namespace netd::ops {
namespace {

TEST(SocketRequest, KindsByNameAndNumber) {
  struct Case {
    const char* family;
    const char* protocol;
    int domain;
    int ipproto;
  };
  for (const Case& c : {Case{"inet", "icmp", AF_INET, IPPROTO_ICMP}, Case{"inet", "1", AF_INET, IPPROTO_ICMP},
                        Case{"inet6", "icmpv6", AF_INET6, IPPROTO_ICMPV6}, Case{"inet6", "58", AF_INET6, IPPROTO_ICMPV6},
                        Case{"inet", "udp", AF_INET, IPPROTO_UDP}, Case{"inet6", "17", AF_INET6, IPPROTO_UDP},
                        Case{"inet", "6", AF_INET, IPPROTO_TCP}, Case{"inet6", "tcp", AF_INET6, IPPROTO_TCP},
                        // Numbers the policy refuses still parse: refusing them is the policy's job.
                        Case{"inet", "255", AF_INET, 255}, Case{"inet6", "0", AF_INET6, 0},
                        Case{"inet", "132", AF_INET, 132}}) {
    SCOPED_TRACE(std::string(c.family) + " " + c.protocol);
    auto r = parse_raw_socket_request(c.family, c.protocol);
    ASSERT_OK(r);
    EXPECT_EQ(r->domain, c.domain);
    EXPECT_EQ(r->protocol, c.ipproto);
  }
}

TEST(SocketRequest, UnknownFamily) {
  for (const char* family : {"", "INET", "ipv4", "inet4", "packet", "2", "unix"}) {
    SCOPED_TRACE(family);
    auto r = parse_raw_socket_request(family, "icmp");
    EXPECT_ERR(r, EAFNOSUPPORT, "is not inet or inet6");
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
  }
}

TEST(SocketRequest, UnknownProtocol) {
  for (const char* protocol : {"", "ICMP", "sctp", "packet", "icmp6", "256", "-1", "01", "1 ", "0x1", "9999"}) {
    SCOPED_TRACE(protocol);
    auto r = parse_raw_socket_request("inet", protocol);
    EXPECT_ERR(r, EPROTONOSUPPORT, "is not icmp, icmpv6, udp, tcp or a protocol number 0..255");
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
  }
}

TEST(SocketRequest, TheFamilyIsReportedFirst) {
  EXPECT_ERR(parse_raw_socket_request("inet5", "sctp"), EAFNOSUPPORT, "^family inet5 is not inet or inet6$");
}

TEST(SocketRequest, LongOrControlWordsAreEchoedBounded) {
  std::string long_word(1000, 'x');
  auto r = parse_raw_socket_request(long_word, "icmp");
  ASSERT_FALSE(r.ok());
  EXPECT_LT(r.error().message.size(), 100u);
  auto ctl = parse_raw_socket_request("inet", "ud\np");
  ASSERT_FALSE(ctl.ok());
  EXPECT_EQ(ctl.error().message.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace netd::ops
