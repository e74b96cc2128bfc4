// sliceip link: words → exact io.netd.Vifs.SetLink / List requests, and the syntax errors.
#include "tools/sliceip/link_cmd.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/fixtures/test_macros.h"
#include "tests/unit/sliceip/parse_helpers.h"

namespace sliceip {
namespace {

using nlohmann::json;

struct RequestCase {
  std::vector<std::string_view> words;
  std::string method;
  std::string parameters;  // JSON text
};

class LinkRequestTest : public ::testing::TestWithParam<RequestCase> {};

TEST_P(LinkRequestTest, BuildsExactRequest) {
  const RequestCase& c = GetParam();
  auto plan = parse_command_line(c.words);
  ASSERT_OK(plan);
  EXPECT_EQ(plan->kind, Plan::Kind::kCall);
  EXPECT_EQ(plan->method, c.method);
  EXPECT_EQ(plan->parameters, json::parse(c.parameters)) << plan->parameters.dump();
  EXPECT_NE(plan->print, nullptr);
}

const RequestCase kRequestCases[] = {
    {{"link", "set", "tap7-0", "up"}, "io.netd.Vifs.SetLink", R"({"name":"tap7-0","up":true})"},
    {{"l", "set", "dev", "tap7-0", "down"},
     "io.netd.Vifs.SetLink",
     R"({"name":"tap7-0","up":false})"},
    {{"link", "set", "tap7-0", "mtu", "1400"},
     "io.netd.Vifs.SetLink",
     R"({"name":"tap7-0","mtu":1400})"},
    {{"link", "set", "tap7-0", "promisc", "on"},
     "io.netd.Vifs.SetLink",
     R"({"name":"tap7-0","promisc":true})"},
    {{"link", "set", "tap7-0", "promisc", "off"},
     "io.netd.Vifs.SetLink",
     R"({"name":"tap7-0","promisc":false})"},
    // several settings at once, in any order, the device anywhere
    {{"link", "set", "tun7-1", "up", "mtu", "9000", "promisc", "off"},
     "io.netd.Vifs.SetLink",
     R"({"name":"tun7-1","up":true,"mtu":9000,"promisc":false})"},
    {{"link", "set", "mtu", "68", "dev", "tun7-1", "down"},
     "io.netd.Vifs.SetLink",
     R"({"name":"tun7-1","up":false,"mtu":68})"},
    {{"link", "set", "tap7-0", "up", "up"},
     "io.netd.Vifs.SetLink",
     R"({"name":"tap7-0","up":true})"},
    {{"link", "set", "tap7-0", "mtu", "65535"},
     "io.netd.Vifs.SetLink",
     R"({"name":"tap7-0","mtu":65535})"},
    {{"link", "show"}, "io.netd.Vifs.List", R"({})"},
    {{"link", "list"}, "io.netd.Vifs.List", R"({})"},
    {{"link"}, "io.netd.Vifs.List", R"({})"},
    {{"l"}, "io.netd.Vifs.List", R"({})"},
    {{"link", "show", "tap7-0"}, "io.netd.Vifs.List", R"({"name":"tap7-0"})"},
    {{"link", "show", "dev", "tap7-0"}, "io.netd.Vifs.List", R"({"name":"tap7-0"})"},
};

INSTANTIATE_TEST_SUITE_P(Requests, LinkRequestTest, ::testing::ValuesIn(kRequestCases));

struct ErrorCase {
  std::vector<std::string_view> words;
  std::string message;
};

class LinkErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(LinkErrorTest, ExactMessage) {
  const ErrorCase& c = GetParam();
  auto plan = parse_command_line(c.words);
  EXPECT_EQ(plan.ok() ? "(parsed)" : plan.error().message, c.message);
}

const ErrorCase kErrorCases[] = {
    {{"link", "set"}, "'link set' needs a device: one of the slice's vifs"},
    {{"link", "set", "up"}, "'link set' needs a device: one of the slice's vifs"},
    {{"link", "set", "tap7-0"}, "'link set' needs a setting: up, down, mtu N, promisc on|off"},
    {{"link", "set", "tap7-0", "up", "down"}, "'up' and 'down' exclude each other"},
    {{"link", "set", "tap7-0", "mtu"}, "'mtu' needs a number 68..65535"},
    {{"link", "set", "tap7-0", "mtu", "67"}, "'mtu' needs a number 68..65535, got '67'"},
    {{"link", "set", "tap7-0", "mtu", "65536"}, "'mtu' needs a number 68..65535, got '65536'"},
    {{"link", "set", "tap7-0", "mtu", "big"}, "'mtu' needs a number 68..65535, got 'big'"},
    {{"link", "set", "tap7-0", "mtu", "1400", "mtu", "1500"}, "'mtu' is given twice"},
    {{"link", "set", "tap7-0", "promisc"}, "'promisc' needs 'on' or 'off'"},
    {{"link", "set", "tap7-0", "promisc", "yes"}, "'promisc' needs 'on' or 'off', got 'yes'"},
    {{"link", "set", "tap7-0", "promisc", "on", "promisc", "off"}, "'promisc' is given twice"},
    {{"link", "set", "tap7-0", "tap7-1", "up"}, "unknown argument 'tap7-1' for 'link set'"},
    {{"link", "set", "dev", "tap7-0", "dev", "tap7-1", "up"}, "'dev' is given twice"},
    {{"link", "set", "tap7-0", "name", "eth0"},
     "'name' cannot be set through sliceip: only up, down, mtu and promisc"},
    {{"link", "set", "tap7-0", "netns", "1"},
     "'netns' cannot be set through sliceip: only up, down, mtu and promisc"},
    {{"link", "set", "tap7-0", "address", "02:00:00:00:00:01"},
     "'address' cannot be set through sliceip: only up, down, mtu and promisc"},
    {{"link", "set", "tap7-0", "master", "br0"},
     "'master' cannot be set through sliceip: only up, down, mtu and promisc"},
    {{"link", "set", "tap7-0", "arp", "off"},
     "'arp' cannot be set through sliceip: only up, down, mtu and promisc"},
    {{"link", "set", "a/b", "up"}, "unknown argument 'a/b' for 'link set'"},
    {{"link", "show", "tap7-0", "tap7-1"}, "unknown argument 'tap7-1' for 'link show'"},
    {{"link", "show", "dev"}, "'dev' needs a device name"},
    {{"link", "add", "x", "type", "dummy"},
     "unknown command 'add' for 'link' (try 'sliceip link help')"},
    {{"link", "del", "tap7-0"}, "unknown command 'del' for 'link' (try 'sliceip link help')"},
};

INSTANTIATE_TEST_SUITE_P(Errors, LinkErrorTest, ::testing::ValuesIn(kErrorCases));

}  // namespace
}  // namespace sliceip
