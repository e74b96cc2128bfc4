// io.netd.SocketOps from the client side: the words a sockaddr becomes for SocketOps.Bind, and
// what is refused before anything is sent.
#include "lib/client/socket_ops.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "lib/client/netd_client.h"
#include "tests/fixtures/test_macros.h"

namespace netd {
namespace {

sockaddr_in v4(const char* address, uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  inet_pton(AF_INET, address, &sin.sin_addr);
  return sin;
}

sockaddr_in6 v6(const char* address, uint16_t port) {
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(port);
  inet_pton(AF_INET6, address, &sin6.sin6_addr);
  return sin6;
}

const sockaddr* sa(const void* p) { return static_cast<const sockaddr*>(p); }

TEST(BindWords, Ipv4AndIpv6AddressesAndPortsInHostOrder) {
  sockaddr_in any = v4("0.0.0.0", 80);
  auto w = bind_words(sa(&any), sizeof any);
  ASSERT_OK(w);
  EXPECT_EQ(w->address, "0.0.0.0");
  EXPECT_EQ(w->port, 80);
  sockaddr_in host = v4("10.0.1.1", 5005);
  EXPECT_EQ(bind_words(sa(&host), sizeof host)->address, "10.0.1.1");
  EXPECT_EQ(bind_words(sa(&host), sizeof host)->port, 5005);
  sockaddr_in6 wild = v6("::", 443);
  EXPECT_EQ(bind_words(sa(&wild), sizeof wild)->address, "::");
  EXPECT_EQ(bind_words(sa(&wild), sizeof wild)->port, 443);
  sockaddr_in6 mapped = v6("::ffff:10.0.1.1", 65535);
  EXPECT_EQ(bind_words(sa(&mapped), sizeof mapped)->address, "::ffff:10.0.1.1");
  EXPECT_EQ(bind_words(sa(&mapped), sizeof mapped)->port, 65535);
  // A sockaddr_storage-sized length is fine.
  sockaddr_storage ss{};
  std::memcpy(&ss, &host, sizeof host);
  EXPECT_EQ(bind_words(sa(&ss), sizeof ss)->address, "10.0.1.1");
}

TEST(BindWords, WhatDoesNotGoThroughNetd) {
  EXPECT_ERR(bind_words(nullptr, 0), EINVAL, "^no address to bind to$");
  sockaddr_in host = v4("10.0.1.1", 80);
  EXPECT_ERR(bind_words(sa(&host), sizeof host - 1), EINVAL, "shorter than a sockaddr_in$");
  sockaddr_in6 wild = v6("::", 80);
  EXPECT_ERR(bind_words(sa(&wild), sizeof(sockaddr_in)), EINVAL, "shorter than a sockaddr_in6$");
  sockaddr_in6 link = v6("fe80::1", 80);
  link.sin6_scope_id = 3;
  EXPECT_ERR(bind_words(sa(&link), sizeof link), EINVAL, "^an IPv6 scope id \\(3\\) does not go through netd");
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  EXPECT_ERR(bind_words(sa(&un), sizeof un), EAFNOSUPPORT, "^address family 1 does not go through netd");
}

TEST(NetdBind, RefusesBeforeSendingAndSaysWhy) {
  EXPECT_EQ(netd_bind(nullptr, 3, nullptr, 0), -EINVAL);
  // A listener that never answers: the refusals below come before anything is sent.
  char dir[] = "/tmp/netd-bind-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/netd.sock";
  int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(bind(listener, sa(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 1), 0);
  netd_client* c = netd_open(path.c_str());
  ASSERT_NE(c, nullptr);
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  EXPECT_EQ(netd_bind(c, -1, sa(&un), sizeof un), -EBADF);
  EXPECT_STREQ(netd_last_error(c), "fd -1 is not a file descriptor");
  EXPECT_EQ(netd_bind(c, 0, sa(&un), sizeof un), -EAFNOSUPPORT);
  EXPECT_STREQ(netd_last_error(c), "address family 1 does not go through netd (AF_INET, AF_INET6)");
  EXPECT_EQ(netd_bind(c, 0, nullptr, 0), -EINVAL);
  EXPECT_STREQ(netd_last_error(c), "no address to bind to");
  netd_close(c);
  close(listener);
  unlink(path.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace netd
