// sliceip route: words → exact io.netd.Routes requests, refusals and syntax errors.
#include "tools/sliceip/route_cmd.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/fixtures/test_macros.h"
#include "tests/unit/sliceip/parse_helpers.h"

namespace sliceip {
namespace {

using nlohmann::json;
using testing::error_of;
using testing::expect_request;
using testing::parse;
using testing::ParseErrorCase;
using testing::RequestCase;

class RouteRequestTest : public ::testing::TestWithParam<RequestCase> {};

TEST_P(RouteRequestTest, BuildsExactRequest) { expect_request(GetParam()); }

const RequestCase kRequestCases[] = {
    // add: every attribute, and only the ones given
    {{"route", "add", "198.51.100.0/24", "via", "192.0.2.1", "dev", "uplink1", "src", "192.0.2.10",
      "metric", "5", "mtu", "1400"},
     "io.netd.Routes.Add",
     R"({"route":{"dst":"198.51.100.0/24","gateway":"192.0.2.1","dev":"uplink1",
         "src":"192.0.2.10","metric":5,"mtu":1400}})"},
    {{"route", "add", "198.51.100.0/24", "via", "192.0.2.1"},
     "io.netd.Routes.Add",
     R"({"route":{"dst":"198.51.100.0/24","gateway":"192.0.2.1"}})"},
    {{"route", "add", "10.7.0.0/30", "dev", "tap7-0"},
     "io.netd.Routes.Add",
     R"({"route":{"dst":"10.7.0.0/30","dev":"tap7-0"}})"},
    // keywords may come before PREFIX, as in ip
    {{"route", "add", "dev", "eth1", "10.0.0.0/8"},
     "io.netd.Routes.Add",
     R"({"route":{"dst":"10.0.0.0/8","dev":"eth1"}})"},
    {{"route", "add", "10.0.0.0/8", "metric", "0"},
     "io.netd.Routes.Add",
     R"({"route":{"dst":"10.0.0.0/8","metric":0}})"},
    {{"route", "add", "10.0.0.0/8", "metric", "4294967295"},
     "io.netd.Routes.Add",
     R"({"route":{"dst":"10.0.0.0/8","metric":4294967295}})"},
    {{"route", "add", "10.0.0.0/8", "metric", "0x10"},
     "io.netd.Routes.Add",
     R"({"route":{"dst":"10.0.0.0/8","metric":16}})"},
    {{"route", "add", "10.0.0.0/8", "mtu", "68"},
     "io.netd.Routes.Add",
     R"({"route":{"dst":"10.0.0.0/8","mtu":68}})"},
    {{"route", "add", "10.0.0.0/8", "mtu", "65535"},
     "io.netd.Routes.Add",
     R"({"route":{"dst":"10.0.0.0/8","mtu":65535}})"},
    // host routes: dst always goes as ADDR/LEN
    {{"route", "add", "198.51.100.7", "dev", "eth1"},
     "io.netd.Routes.Add",
     R"({"route":{"dst":"198.51.100.7/32","dev":"eth1"}})"},
    {{"route", "add", "2001:db8::1", "dev", "eth1"},
     "io.netd.Routes.Add",
     R"({"route":{"dst":"2001:db8::1/128","dev":"eth1"}})"},
    // IPv6, canonical spelling
    {{"route", "add", "2001:DB8:0:0::/64", "via", "FE80:0::1", "dev", "eth1"},
     "io.netd.Routes.Add",
     R"({"route":{"dst":"2001:db8::/64","gateway":"fe80::1","dev":"eth1"}})"},
    // default: -4/-6, else the gateway's or source's family, else IPv4
    {{"route", "add", "default", "via", "192.0.2.1"},
     "io.netd.Routes.Add",
     R"({"route":{"dst":"0.0.0.0/0","gateway":"192.0.2.1"}})"},
    {{"route", "add", "default", "dev", "eth1"},
     "io.netd.Routes.Add",
     R"({"route":{"dst":"0.0.0.0/0","dev":"eth1"}})"},
    {{"-4", "route", "add", "default", "dev", "eth1"},
     "io.netd.Routes.Add",
     R"({"route":{"dst":"0.0.0.0/0","dev":"eth1"}})"},
    {{"-6", "route", "add", "default", "dev", "eth1"},
     "io.netd.Routes.Add",
     R"({"route":{"dst":"::/0","dev":"eth1"}})"},
    {{"route", "add", "default", "via", "fd00::1"},
     "io.netd.Routes.Add",
     R"({"route":{"dst":"::/0","gateway":"fd00::1"}})"},
    {{"route", "add", "default", "dev", "eth1", "src", "fd00::2"},
     "io.netd.Routes.Add",
     R"({"route":{"dst":"::/0","dev":"eth1","src":"fd00::2"}})"},
    {{"-6", "route", "add", "default", "via", "fd00::1"},
     "io.netd.Routes.Add",
     R"({"route":{"dst":"::/0","gateway":"fd00::1"}})"},
    {{"-4", "route", "add", "10.0.0.0/8", "via", "10.1.2.3"},
     "io.netd.Routes.Add",
     R"({"route":{"dst":"10.0.0.0/8","gateway":"10.1.2.3"}})"},
    // types
    {{"route", "add", "blackhole", "203.0.113.0/24"},
     "io.netd.Routes.Add",
     R"({"route":{"type":"blackhole","dst":"203.0.113.0/24"}})"},
    {{"route", "add", "unreachable", "203.0.113.0/24", "metric", "7"},
     "io.netd.Routes.Add",
     R"({"route":{"type":"unreachable","dst":"203.0.113.0/24","metric":7}})"},
    {{"route", "add", "prohibit", "default"},
     "io.netd.Routes.Add",
     R"({"route":{"type":"prohibit","dst":"0.0.0.0/0"}})"},
    {{"-6", "route", "add", "blackhole", "default"},
     "io.netd.Routes.Add",
     R"({"route":{"type":"blackhole","dst":"::/0"}})"},
    {{"route", "add", "unicast", "10.0.0.0/8", "dev", "eth1"},
     "io.netd.Routes.Add",
     R"({"route":{"dst":"10.0.0.0/8","dev":"eth1"}})"},
    // replace, del, delete
    {{"route", "replace", "10.0.0.0/8", "via", "192.0.2.1", "metric", "3"},
     "io.netd.Routes.Add",
     R"({"route":{"dst":"10.0.0.0/8","gateway":"192.0.2.1","metric":3},"replace":true})"},
    {{"route", "replace", "blackhole", "10.0.0.0/8"},
     "io.netd.Routes.Add",
     R"({"route":{"type":"blackhole","dst":"10.0.0.0/8"},"replace":true})"},
    {{"route", "del", "10.0.0.0/8"}, "io.netd.Routes.Delete", R"({"route":{"dst":"10.0.0.0/8"}})"},
    {{"route", "delete", "10.0.0.0/8", "via", "192.0.2.1", "dev", "eth1"},
     "io.netd.Routes.Delete",
     R"({"route":{"dst":"10.0.0.0/8","gateway":"192.0.2.1","dev":"eth1"}})"},
    {{"route", "del", "blackhole", "203.0.113.0/24"},
     "io.netd.Routes.Delete",
     R"({"route":{"type":"blackhole","dst":"203.0.113.0/24"}})"},
    {{"-6", "route", "del", "default"}, "io.netd.Routes.Delete", R"({"route":{"dst":"::/0"}})"},
    // show / list
    {{"route", "show"}, "io.netd.Routes.List", "{}"},
    {{"route", "list"}, "io.netd.Routes.List", "{}"},
    {{"route"}, "io.netd.Routes.List", "{}"},
    {{"-4", "route", "show"}, "io.netd.Routes.List", R"({"family":"inet"})"},
    {{"-6", "route", "list"}, "io.netd.Routes.List", R"({"family":"inet6"})"},
    {{"route", "show", "198.51.100.0/24"},
     "io.netd.Routes.List",
     R"({"prefix":"198.51.100.0/24"})"},
    {{"route", "show", "198.51.100.7"}, "io.netd.Routes.List", R"({"prefix":"198.51.100.7/32"})"},
    {{"-6", "route", "show", "2001:db8::/32"},
     "io.netd.Routes.List",
     R"({"family":"inet6","prefix":"2001:db8::/32"})"},
    {{"route", "show", "default"}, "io.netd.Routes.List", R"({"prefix":"0.0.0.0/0"})"},
    {{"-6", "route", "show", "default"},
     "io.netd.Routes.List",
     R"({"family":"inet6","prefix":"::/0"})"},
    // flush
    {{"route", "flush"}, "io.netd.Routes.Flush", "{}"},
    {{"-4", "route", "flush"}, "io.netd.Routes.Flush", R"({"family":"inet"})"},
    {{"-6", "route", "flush"}, "io.netd.Routes.Flush", R"({"family":"inet6"})"},
    // get
    {{"route", "get", "198.51.100.7"}, "io.netd.Routes.Get", R"({"address":"198.51.100.7"})"},
    {{"-6", "route", "get", "2001:DB8::7"}, "io.netd.Routes.Get", R"({"address":"2001:db8::7"})"},
};

INSTANTIATE_TEST_SUITE_P(Words, RouteRequestTest, ::testing::ValuesIn(kRequestCases));

// Every word that could point a route elsewhere is refused, wherever it stands.
class RefusedWordTest : public ::testing::TestWithParam<std::string_view> {};

TEST_P(RefusedWordTest, RefusedInEveryRouteCommand) {
  std::string_view word = GetParam();
  EXPECT_TRUE(is_refused_route_word(word));
  const std::vector<std::vector<std::string_view>> lines = {
      {"route", "add", "198.51.100.0/24", "dev", "eth9", word, "main"},
      {"route", "add", word, "5", "198.51.100.0/24"},
      {"route", "replace", "198.51.100.0/24", word},
      {"route", "del", "198.51.100.0/24", word, "x"},
      {"route", "show", word, "main"},
      {"route", "flush", word, "main"},
      {"route", "get", "198.51.100.7", word, "5"},
  };
  for (const auto& line : lines) {
    auto plan = parse_command_line(line);
    ASSERT_OK(plan);
    EXPECT_EQ(plan->kind, Plan::Kind::kRefused) << ::testing::PrintToString(line);
    EXPECT_EQ(plan->text, word);
    EXPECT_TRUE(plan->method.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Words, RefusedWordTest,
                         ::testing::Values("table", "tab", "vrf", "proto", "protocol", "scope",
                                           "realm", "realms", "nexthop", "nhid", "onlink", "from",
                                           "tos", "dsfield", "encap", "mark", "fwmark", "uid",
                                           "iif", "oif", "local", "broadcast", "multicast",
                                           "anycast", "nat", "throw"));

TEST(RefusedWordMessage, NamesTheSlice) {
  EXPECT_EQ(refused_word_message("table", "alice"),
            "'table' is not allowed: routes always go to slice alice's table");
}

TEST(RefusedWordMessage, FallsBackWhenSliceUnknown) {
  EXPECT_EQ(refused_word_message("proto", ""),
            "'proto' is not allowed: routes always go to your slice's table");
}

TEST(RefusedWords, OrdinaryWordsAreNotRefused) {
  for (std::string_view word :
       {"via", "dev", "src", "metric", "mtu", "blackhole", "default", "type"})
    EXPECT_FALSE(is_refused_route_word(word)) << word;
}

// A syntax error before a refused word wins: words are read in order.
TEST(RefusedWords, EarlierSyntaxErrorWins) {
  EXPECT_EQ(error_of(parse({"route", "add", "10.0.0.x", "table", "main"})),
            "'10.0.0.x' is not a prefix (ADDRESS[/LENGTH])");
}

class RouteSyntaxErrorTest : public ::testing::TestWithParam<ParseErrorCase> {};

TEST_P(RouteSyntaxErrorTest, ExactMessage) {
  EXPECT_EQ(error_of(parse_command_line(GetParam().words)), GetParam().message);
}

const ParseErrorCase kErrorCases[] = {
    // missing values
    {{"route", "add", "10.0.0.0/8", "via"}, "'via' needs an address"},
    {{"route", "add", "10.0.0.0/8", "dev"}, "'dev' needs an interface name"},
    {{"route", "add", "10.0.0.0/8", "src"}, "'src' needs an address"},
    {{"route", "add", "10.0.0.0/8", "metric"}, "'metric' needs a number 0..4294967295"},
    {{"route", "add", "10.0.0.0/8", "mtu"}, "'mtu' needs a number 68..65535"},
    // bad values
    {{"route", "add", "10.0.0.0/8", "via", "10.0.0.x"}, "'via' needs an address, got '10.0.0.x'"},
    {{"route", "add", "10.0.0.0/8", "via", "10.0.0.0/24"},
     "'via' needs an address, got '10.0.0.0/24'"},
    {{"route", "add", "10.0.0.0/8", "src", "me"}, "'src' needs an address, got 'me'"},
    {{"route", "add", "10.0.0.0/8", "dev", "abcdefghijklmnop"},
     "'dev' needs an interface name, got 'abcdefghijklmnop'"},
    {{"route", "add", "10.0.0.0/8", "dev", "a/b"}, "'dev' needs an interface name, got 'a/b'"},
    {{"route", "add", "10.0.0.0/8", "dev", ".."}, "'dev' needs an interface name, got '..'"},
    {{"route", "add", "10.0.0.0/8", "dev", ""}, "'dev' needs an interface name, got ''"},
    {{"route", "add", "10.0.0.0/8", "metric", "-1"},
     "'metric' needs a number 0..4294967295, got '-1'"},
    {{"route", "add", "10.0.0.0/8", "metric", "4294967296"},
     "'metric' needs a number 0..4294967295, got '4294967296'"},
    {{"route", "add", "10.0.0.0/8", "mtu", "67"}, "'mtu' needs a number 68..65535, got '67'"},
    {{"route", "add", "10.0.0.0/8", "mtu", "65536"}, "'mtu' needs a number 68..65535, got '65536'"},
    {{"route", "add", "10.0.0.0/8", "mtu", "lock"}, "'mtu' needs a number 68..65535, got 'lock'"},
    {{"route", "add", "10.0.0.0/8", "via", "inet6", "fe80::1"},
     "'via inet6' is not supported: give the gateway address alone"},
    {{"route", "add", "10.0.0.0/8", "via", "inet", "10.0.0.1"},
     "'via inet' is not supported: give the gateway address alone"},
    // duplicates
    {{"route", "add", "10.0.0.0/8", "via", "10.0.0.1", "via", "10.0.0.2"}, "'via' is given twice"},
    {{"route", "add", "10.0.0.0/8", "metric", "1", "metric", "1"}, "'metric' is given twice"},
    {{"route", "add", "10.0.0.0/8", "10.1.0.0/16"},
     "'route add' takes one PREFIX, got '10.0.0.0/8' and '10.1.0.0/16'"},
    // bad prefixes
    {{"route", "add", "10.0.0.1/24"},
     "'10.0.0.1/24' has host bits set (did you mean 10.0.0.0/24?)"},
    {{"route", "add", "10.0.0.0/33"}, "'10.0.0.0/33': prefix length must be 0..32"},
    {{"route", "add", "10.0.0.x"}, "'10.0.0.x' is not a prefix (ADDRESS[/LENGTH])"},
    {{"route", "add", "fd00::/129"}, "'fd00::/129': prefix length must be 0..128"},
    {{"route", "add", "all"}, "unknown argument 'all' for 'route add'"},
    // unknown words, specific to the command
    {{"route", "add", "xyz"}, "unknown argument 'xyz' for 'route add'"},
    {{"route", "add", "10.0.0.0/8", "xyz"}, "unknown argument 'xyz' for 'route add'"},
    {{"route", "del", "10.0.0.0/8", "weight", "1"}, "unknown argument 'weight' for 'route del'"},
    {{"route", "replace", "10.0.0.0/8", "preference", "1"},
     "unknown argument 'preference' for 'route replace'"},
    {{"route", "add", "10.0.0.0/8", "blackhole"}, "unknown argument 'blackhole' for 'route add'"},
    {{"route", "add", "blackhole", "unreachable", "10.0.0.0/8"},
     "unknown argument 'unreachable' for 'route add'"},
    {{"route", "add", "to", "10.0.0.0/8"}, "unknown argument 'to' for 'route add'"},
    {{"route", "add", "10.0.0.0/8", "-j"}, "unknown argument '-j' for 'route add'"},
    // missing PREFIX
    {{"route", "add"}, "'route add' needs a PREFIX"},
    {{"route", "del"}, "'route del' needs a PREFIX"},
    {{"route", "add", "via", "10.0.0.1", "dev", "eth1"}, "'route add' needs a PREFIX"},
    {{"route", "add", "blackhole"}, "'route add' needs a PREFIX"},
    // families
    {{"-6", "route", "add", "10.0.0.0/8"}, "'10.0.0.0/8' is not an IPv6 prefix (-6 was given)"},
    {{"-4", "route", "add", "fd00::/64"}, "'fd00::/64' is not an IPv4 prefix (-4 was given)"},
    {{"route", "add", "10.0.0.0/8", "via", "fd00::1"},
     "'via' address 'fd00::1' is IPv6 but PREFIX '10.0.0.0/8' is IPv4"},
    {{"route", "add", "fd00::/64", "src", "10.0.0.1"},
     "'src' address '10.0.0.1' is IPv4 but PREFIX 'fd00::/64' is IPv6"},
    {{"-4", "route", "add", "default", "via", "fd00::1"},
     "'via' address 'fd00::1' is IPv6 but PREFIX 'default' is IPv4"},
    {{"route", "add", "default", "via", "fd00::1", "src", "10.0.0.1"},
     "'src' address '10.0.0.1' is IPv4 but PREFIX 'default' is IPv6"},
    // typed routes take no next hop
    {{"route", "add", "blackhole", "10.0.0.0/8", "via", "10.0.0.1"},
     "a blackhole route takes no 'via'"},
    {{"route", "add", "unreachable", "10.0.0.0/8", "dev", "eth1"},
     "an unreachable route takes no 'dev'"},
    {{"route", "add", "prohibit", "10.0.0.0/8", "mtu", "1400"}, "a prohibit route takes no 'mtu'"},
    {{"route", "del", "blackhole", "10.0.0.0/8", "src", "10.0.0.1"},
     "a blackhole route takes no 'src'"},
    // show
    {{"route", "show", "xyz"}, "unknown argument 'xyz' for 'route show'"},
    {{"route", "list", "10.0.0.0/8", "10.1.0.0/16"},
     "'route list' takes one PREFIX, got '10.0.0.0/8' and '10.1.0.0/16'"},
    {{"route", "show", "10.0.0.1/8"}, "'10.0.0.1/8' has host bits set (did you mean 10.0.0.0/8?)"},
    {{"-4", "route", "show", "fd00::/8"}, "'fd00::/8' is not an IPv4 prefix (-4 was given)"},
    // flush
    {{"route", "flush", "10.0.0.0/8"}, "unknown argument '10.0.0.0/8' for 'route flush'"},
    {{"route", "flush", "all"}, "unknown argument 'all' for 'route flush'"},
    // get
    {{"route", "get"}, "'route get' needs an address"},
    {{"route", "get", "10.0.0.0/8"}, "'route get' needs an address, got '10.0.0.0/8'"},
    {{"route", "get", "1.2.3"}, "'route get' needs an address, got '1.2.3'"},
    {{"route", "get", "xyz"}, "unknown argument 'xyz' for 'route get'"},
    {{"route", "get", "1.2.3.4", "5.6.7.8"}, "unknown argument '5.6.7.8' for 'route get'"},
    {{"route", "get", "1.2.3.4", "connected"}, "unknown argument 'connected' for 'route get'"},
    {{"-4", "route", "get", "fd00::1"}, "'fd00::1' is not an IPv4 address (-4 was given)"},
    {{"-6", "route", "get", "10.0.0.1"}, "'10.0.0.1' is not an IPv6 address (-6 was given)"},
};

INSTANTIATE_TEST_SUITE_P(Words, RouteSyntaxErrorTest, ::testing::ValuesIn(kErrorCases));

TEST(RouteSyntaxError, CodeIsEinval) {
  auto plan = parse({"route", "add", "10.0.0.0/8", "via"});
  EXPECT_ERR(plan, EINVAL, "needs an address");
}

// No abbreviations: ip's prefix-matched spellings are unknown here.
TEST(RouteAbbreviations, AreRejected) {
  EXPECT_EQ(error_of(parse({"route", "a", "10.0.0.0/8"})),
            "unknown command 'a' for 'route' (try 'sliceip route help')");
  EXPECT_EQ(error_of(parse({"route", "sh"})),
            "unknown command 'sh' for 'route' (try 'sliceip route help')");
  EXPECT_EQ(error_of(parse({"route", "lst"})),
            "unknown command 'lst' for 'route' (try 'sliceip route help')");
  EXPECT_EQ(error_of(parse({"r", "show"})), "unknown object 'r' (try 'sliceip -h')");
  EXPECT_EQ(error_of(parse({"route", "add", "10.0.0.0/8", "met", "5"})),
            "unknown argument 'met' for 'route add'");
  EXPECT_EQ(error_of(parse({"route", "add", "black", "10.0.0.0/8"})),
            "unknown argument 'black' for 'route add'");
}

}  // namespace
}  // namespace sliceip
