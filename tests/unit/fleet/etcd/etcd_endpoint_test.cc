// Endpoint URLs and prefix ranges: what the client sends before it reaches any server.
#include <gtest/gtest.h>

#include "netd/fleet/etcd/endpoint.h"
#include "tests/fixtures/test_macros.h"

namespace netd::fleet {
namespace {

TEST(EtcdEndpointTest, AcceptsHttpAndHttpsWithAPort) {
  struct Case {
    const char* url;
    const char* target;
    bool tls;
  } cases[] = {
      {"http://127.0.0.1:2379", "127.0.0.1:2379", false},
      {"https://etcd-a.example:2379", "etcd-a.example:2379", true},
      {"http://10.0.0.1:23790/", "10.0.0.1:23790", false},  // etcdctl's way of printing them
      {"https://[2001:db8::1]:2379", "[2001:db8::1]:2379", true},
  };
  for (const Case& c : cases) {
    auto ep = parse_endpoint(c.url);
    ASSERT_OK(ep);
    EXPECT_EQ(ep->target, c.target) << c.url;
    EXPECT_EQ(ep->tls, c.tls) << c.url;
    EXPECT_EQ(ep->url, c.url);
  }
}

TEST(EtcdEndpointTest, RefusesWhatGrpcWouldMisread) {
  for (const char* url : {"127.0.0.1:2379", "unix:///run/etcd.sock", "http://127.0.0.1", "http://:2379",
                          "http://h:0", "http://h:65536", "http://h:23a9", "http://h:2379/v3", "http://u@h:2379",
                          "https://[2001:db8::1]", "http://h:2379?x=1"}) {
    SCOPED_TRACE(url);
    EXPECT_ERR(parse_endpoint(url), EINVAL, "etcd endpoint");
  }
}

TEST(EtcdEndpointTest, PrefixRangeEndIsThePrefixWithItsLastByteIncremented) {
  EXPECT_EQ(prefix_range_end("/netd/"), "/netd0");
  EXPECT_EQ(prefix_range_end("a"), "b");
  EXPECT_EQ(prefix_range_end(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefix_range_end(std::string("\xff\xff", 2)), std::string(1, '\0'));
  EXPECT_EQ(prefix_range_end(""), std::string(1, '\0'));
}

}  // namespace
}  // namespace netd::fleet
