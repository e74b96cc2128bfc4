// sliceip link: words → exact io.netd.Vifs.SetLink / List requests, and the syntax errors.
#include "tools/sliceip/link_cmd.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/fixtures/test_macros.h"
#include "tests/unit/sliceip/parse_helpers.h"

namespace sliceip {
namespace {

using nlohmann::json;
using testing::error_of;
using testing::expect_request;
using testing::ParseErrorCase;
using testing::RequestCase;

class LinkRequestTest : public ::testing::TestWithParam<RequestCase> {};

TEST_P(LinkRequestTest, BuildsExactRequest) { expect_request(GetParam()); }

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

class LinkErrorTest : public ::testing::TestWithParam<ParseErrorCase> {};

TEST_P(LinkErrorTest, ExactMessage) {
  EXPECT_EQ(error_of(parse_command_line(GetParam().words)), GetParam().message);
}

const ParseErrorCase kErrorCases[] = {
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
