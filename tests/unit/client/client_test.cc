// The client against a scripted peer on a socketpair: replies, errors, and broken peers.
#include "lib/client/client.h"

#include <sys/socket.h>

#include <thread>

#include "tests/fixtures/test_macros.h"

namespace netd {
namespace {

TEST(ClientSocketPath, ExplicitThenEnvironmentThenDefault) {
  unsetenv("NETD_SOCKET");
  EXPECT_EQ(Client::socket_path(), "/run/netd/netd.sock");
  setenv("NETD_SOCKET", "/tmp/x.sock", 1);
  EXPECT_EQ(Client::socket_path(), "/tmp/x.sock");
  EXPECT_EQ(Client::socket_path("/p.sock"), "/p.sock");
  unsetenv("NETD_SOCKET");
}

TEST(Client, ConnectFailureNamesThePath) {
  EXPECT_ERR(Client::connect("/nonexistent/netd.sock"), ENOENT, "cannot reach netd at /nonexistent/netd.sock");
}

}  // namespace
}  // namespace netd
