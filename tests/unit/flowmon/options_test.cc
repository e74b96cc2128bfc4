// netd-flowmon's --ipfix options: what is taken, and the refusals (a bad collector address,
// timeouts out of range or without --ipfix, report options with it).
#include "tools/flowmon/options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace flowmon {
namespace {

netd::Result<Options> parse(std::vector<std::string_view> words) { return parse_command_line(words); }

TEST(FlowmonOptions, IpfixWithTimeouts) {
  auto o = parse({"--ipfix", "127.0.0.1:4739", "--active-timeout", "2.5", "--idle-timeout=1"});
  ASSERT_TRUE(o.ok()) << o.error().message;
  ASSERT_TRUE(o->ipfix.has_value());
  EXPECT_EQ(o->ipfix->to_string(), "127.0.0.1:4739");
  EXPECT_EQ(o->active_timeout_ms, 2500u);
  EXPECT_EQ(o->idle_timeout_ms, 1000u);
  auto defaults = parse({"--ipfix", "[::1]:2055"});
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  EXPECT_EQ(defaults->active_timeout_ms, 1800u * 1000);
  EXPECT_EQ(defaults->idle_timeout_ms, 15u * 1000);
  EXPECT_EQ(defaults->template_interval_ms, 60u * 1000);
  auto resend = parse({"--ipfix", "127.0.0.1:4739", "--template-interval", "1"});
  ASSERT_TRUE(resend.ok()) << resend.error().message;
  EXPECT_EQ(resend->template_interval_ms, 1000u);
  EXPECT_EQ(parse({"--ipfix", "127.0.0.1:4739", "--template-interval=86400"})->template_interval_ms, 86400u * 1000);
  EXPECT_FALSE(parse({"--flows"})->ipfix.has_value());
  EXPECT_EQ(defaults->ipfix->transport, Transport::kUdp);
}

// --transport before or after --ipfix; over TCP the templates go once per connection, so
// --template-interval is refused there (the statistics keep their default schedule).
TEST(FlowmonOptions, TransportTcp) {
  for (auto words : {std::vector<std::string_view>{"--ipfix", "127.0.0.1:4739", "--transport", "tcp"},
                     std::vector<std::string_view>{"--transport=tcp", "--ipfix=127.0.0.1:4739"}}) {
    auto o = parse(words);
    ASSERT_TRUE(o.ok()) << o.error().message;
    EXPECT_EQ(o->ipfix->transport, Transport::kTcp);
    EXPECT_EQ(o->template_interval_ms, 60u * 1000);
  }
  EXPECT_EQ(parse({"--ipfix", "127.0.0.1:4739", "--transport", "udp"})->ipfix->transport, Transport::kUdp);
}

TEST(FlowmonOptions, IpfixRefusals) {
  struct Case {
    std::vector<std::string_view> words;
    const char* reason;
  } cases[] = {
      {{"--ipfix", "localhost"}, "'--ipfix' needs HOST:PORT, got 'localhost': no port"},
      {{"--ipfix", "::1:4739"}, "needs brackets"},
      {{"--ipfix"}, "'--ipfix' needs a value"},
      {{"--ipfix", "127.0.0.1:4739", "--idle-timeout", "0"}, "'--idle-timeout' needs seconds 0.1..86400, got '0'"},
      {{"--ipfix", "127.0.0.1:4739", "--active-timeout", "90000"}, "'--active-timeout' needs seconds 0.1..86400"},
      {{"--active-timeout", "60"}, "'--active-timeout' needs --ipfix HOST:PORT"},
      {{"--ipfix", "127.0.0.1:4739", "--template-interval", "0"},
       "'--template-interval' needs whole seconds 1..86400, got '0'"},
      {{"--ipfix", "127.0.0.1:4739", "--template-interval", "x"}, "'--template-interval' needs whole seconds"},
      {{"--ipfix", "127.0.0.1:4739", "--template-interval", "1.5"}, "'--template-interval' needs whole seconds"},
      {{"--ipfix", "127.0.0.1:4739", "--template-interval", "86401"}, "'--template-interval' needs whole seconds"},
      {{"--ipfix", "127.0.0.1:4739", "--template-interval", "-1"}, "'--template-interval' needs whole seconds"},
      {{"--template-interval", "5"}, "'--template-interval' needs --ipfix HOST:PORT"},
      {{"--ipfix", "127.0.0.1:4739", "--flows"}, "'--flows' is for reports; --ipfix prints none"},
      {{"--count", "1", "--ipfix", "127.0.0.1:4739"}, "'--count' is for reports"},
      {{"--ipfix", "127.0.0.1:4739", "--interval", "1"}, "'--interval' is for reports"},
      {{"--ipfix", "127.0.0.1:4739", "--transport", "sctp"}, "'--transport' needs udp or tcp, got 'sctp'"},
      {{"--ipfix", "127.0.0.1:4739", "--transport", "TCP"}, "'--transport' needs udp or tcp, got 'TCP'"},
      {{"--transport", "tcp"}, "'--transport' needs --ipfix HOST:PORT"},
      {{"--ipfix", "127.0.0.1:4739", "--transport", "tcp", "--template-interval", "5"},
       "'--template-interval' is for UDP: over TCP the templates go once per connection"},
  };
  for (const auto& c : cases) {
    auto o = parse(c.words);
    ASSERT_FALSE(o.ok()) << c.reason;
    EXPECT_EQ(o.error().code, EINVAL);
    EXPECT_NE(o.error().message.find(c.reason), std::string::npos) << o.error().message;
  }
}

}  // namespace
}  // namespace flowmon
