// --ipfix HOST:PORT: what is taken, and every refusal with its reason.
#include "tools/flowmon/collector.h"

#include <gtest/gtest.h>

namespace flowmon {
namespace {

TEST(Collector, TakesAddressesNamesAndBracketedIpv6) {
  struct Case {
    const char* text;
    const char* host;
    uint16_t port;
  } cases[] = {{"127.0.0.1:4739", "127.0.0.1", 4739},
               {"collector.example:2055", "collector.example", 2055},
               {"[2001:db8::1]:4739", "2001:db8::1", 4739},
               {"localhost:65535", "localhost", 65535}};
  for (const auto& c : cases) {
    auto r = parse_collector(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.error().message;
    EXPECT_EQ(r->host, c.host);
    EXPECT_EQ(r->port, c.port);
    EXPECT_EQ(r->to_string(), c.text);
  }
}

TEST(Collector, RefusesWithTheReason) {
  struct Case {
    const char* text;
    const char* reason;
  } cases[] = {{"127.0.0.1", "no port"},
               {"127.0.0.1:", "the port must be 1..65535"},
               {"127.0.0.1:0", "the port must be 1..65535"},
               {"127.0.0.1:65536", "the port must be 1..65535"},
               {"127.0.0.1:47x9", "the port must be 1..65535"},
               {":4739", "no host"},
               {"2001:db8::1:4739", "needs brackets"},
               {"[2001:db8::1:4739", "'[' without ']'"},
               {"[10.0.0.1]:4739", "not an IPv6 address in brackets"},
               {"host name:4739", "not an address or host name"},
               {"-x:4739", "not an address or host name"}};
  for (const auto& c : cases) {
    auto r = parse_collector(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().code, EINVAL);
    EXPECT_NE(r.error().message.find(c.reason), std::string::npos) << c.text << ": " << r.error().message;
    EXPECT_NE(r.error().message.find("'--ipfix' needs HOST:PORT"), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace flowmon
