// sliceip output: ip-like text and -j JSON from sample replies; error replies → message + exit.
#include "tools/sliceip/print.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/fixtures/test_macros.h"
#include "tests/unit/common_cli/cli_test_helpers.h"

namespace sliceip {
namespace {

using netd::testing::printed;
using nlohmann::json;

const GlobalOptions kText{};
const GlobalOptions kJson{.json = true};
const GlobalOptions kPretty{.json = true, .pretty = true};

TEST(RouteText, LikeIpRoute) {
  EXPECT_EQ(route_text(json::parse(R"({"dst":"198.51.100.0/24","gateway":"192.0.2.1",
      "dev":"uplink1","src":"192.0.2.10","metric":5,"mtu":1400})")),
            "198.51.100.0/24 via 192.0.2.1 dev uplink1 src 192.0.2.10 metric 5 mtu 1400");
  EXPECT_EQ(route_text(json::parse(R"({"type":"blackhole","dst":"203.0.113.0/24"})")),
            "blackhole 203.0.113.0/24");
  EXPECT_EQ(route_text(json::parse(R"({"type":"unicast","dst":"10.0.0.0/8","dev":"eth1"})")),
            "10.0.0.0/8 dev eth1");
  EXPECT_EQ(route_text(json::parse(R"({"dst":"0.0.0.0/0","gateway":"192.0.2.1"})")),
            "default via 192.0.2.1");
  EXPECT_EQ(route_text(json::parse(R"({"dst":"::/0","gateway":"fe80::1","dev":"eth1"})")),
            "default via fe80::1 dev eth1");
  EXPECT_EQ(route_text(json::parse(R"({"dst":"198.51.100.7/32","dev":"eth1"})")),
            "198.51.100.7 dev eth1");
  EXPECT_EQ(route_text(json::parse(R"({"dst":"2001:db8::1/128","dev":"eth1"})")),
            "2001:db8::1 dev eth1");
  EXPECT_EQ(route_text(json::parse(R"({"type":"unreachable","dst":"fd00::/8","metric":1024})")),
            "unreachable fd00::/8 metric 1024");
}

TEST(RouteText, SkipsNullsAndWrongTypes) {
  EXPECT_EQ(route_text(json::parse(R"({"dst":"10.0.0.0/8","gateway":null,"dev":7,"metric":"x"})")),
            "10.0.0.0/8");
  EXPECT_EQ(route_text(json::parse(R"({"gateway":"10.0.0.1"})")), "? via 10.0.0.1");
  EXPECT_EQ(route_text(json::parse("[]")), "?");
}

TEST(RouteJson, SameKeysAsTextInIpOrder) {
  EXPECT_EQ(route_json(json::parse(R"({"mtu":1400,"metric":5,"src":"192.0.2.10","dev":"uplink1",
      "gateway":"192.0.2.1","dst":"198.51.100.0/24"})"))
                .dump(),
            R"({"dst":"198.51.100.0/24","gateway":"192.0.2.1","dev":"uplink1",)"
            R"("src":"192.0.2.10","metric":5,"mtu":1400})");
  EXPECT_EQ(route_json(json::parse(R"({"type":"blackhole","dst":"0.0.0.0/0"})")).dump(),
            R"({"type":"blackhole","dst":"default"})");
  EXPECT_EQ(route_json(json::parse(R"({"type":"unicast","dst":"10.0.0.1/32"})")).dump(),
            R"({"dst":"10.0.0.1"})");
}

const json kRoutes = json::parse(R"({"routes":[
    {"dst":"198.51.100.0/24","gateway":"192.0.2.1","dev":"uplink1","src":"192.0.2.10",
     "metric":5,"mtu":1400},
    {"type":"blackhole","dst":"203.0.113.0/24"}]})");

TEST(PrintRouteList, Text) {
  EXPECT_EQ(printed(print_route_list({}, kRoutes, kText)),
            "198.51.100.0/24 via 192.0.2.1 dev uplink1 src 192.0.2.10 metric 5 mtu 1400\n"
            "blackhole 203.0.113.0/24\n");
  EXPECT_EQ(printed(print_route_list({}, json::parse(R"({"routes":[]})"), kText)), "");
}

TEST(PrintRouteList, JsonCompactAndPretty) {
  EXPECT_EQ(printed(print_route_list({}, kRoutes, kJson)),
            R"([{"dst":"198.51.100.0/24","gateway":"192.0.2.1","dev":"uplink1","src":"192.0.2.10",)"
            R"("metric":5,"mtu":1400},{"type":"blackhole","dst":"203.0.113.0/24"}])"
            "\n");
  EXPECT_EQ(printed(print_route_list({}, json::parse(R"({"routes":[]})"), kJson)), "[]\n");
  EXPECT_EQ(
      printed(print_route_list({}, json::parse(R"({"routes":[{"dst":"10.0.0.0/8"}]})"), kPretty)),
      "[\n    {\n        \"dst\": \"10.0.0.0/8\"\n    }\n]\n");
}

TEST(PrintRouteList, MalformedReplyIsAnError) {
  EXPECT_EQ(printed(print_route_list({}, json::object(), kText)),
            "error: unexpected reply from netd: no 'routes' list");
  EXPECT_EQ(printed(print_route_list({}, json::parse(R"({"routes":5})"), kJson)),
            "error: unexpected reply from netd: no 'routes' list");
}

const json kGetRequest = json::parse(R"({"address":"198.51.100.7"})");
const json kGetReply = json::parse(R"({"route":{"dst":"198.51.100.0/24","gateway":"10.0.2.1",
    "dev":"uplink1","src":"10.0.2.2"},"table":10007})");

TEST(PrintRouteGet, TextLikeIpRouteGet) {
  EXPECT_EQ(printed(print_route_get(kGetRequest, kGetReply, kText)),
            "198.51.100.7 via 10.0.2.1 dev uplink1 src 10.0.2.2 table 10007\n");
  json blackhole =
      json::parse(R"({"route":{"type":"blackhole","dst":"198.51.100.0/24"},"table":10007})");
  EXPECT_EQ(printed(print_route_get(kGetRequest, blackhole, kText)),
            "blackhole 198.51.100.7 table 10007\n");
  json main_table =
      json::parse(R"({"route":{"dst":"0.0.0.0/0","gateway":"10.0.0.1","dev":"eth0"},"table":254})");
  EXPECT_EQ(printed(print_route_get(kGetRequest, main_table, kText)),
            "198.51.100.7 via 10.0.0.1 dev eth0 table 254\n");
}

TEST(PrintRouteGet, Json) {
  EXPECT_EQ(printed(print_route_get(kGetRequest, kGetReply, kJson)),
            R"([{"dst":"198.51.100.7","gateway":"10.0.2.1","dev":"uplink1","src":"10.0.2.2",)"
            R"("table":10007}])"
            "\n");
  EXPECT_EQ(printed(print_route_get(kGetRequest, json::object(), kJson)),
            "error: unexpected reply from netd: no 'route'");
}

TEST(PrintFlush, NothingOrCount) {
  json reply = json::parse(R"({"deleted":3})");
  EXPECT_EQ(printed(print_flush({}, reply, kText)), "");
  EXPECT_EQ(printed(print_flush({}, reply, kJson)), "{\"deleted\":3}\n");
  EXPECT_EQ(printed(print_flush({}, json::object(), kJson)),
            "error: unexpected reply from netd: no 'deleted' count");
}

TEST(PrintNothing, AddAndDelete) {
  EXPECT_EQ(printed(print_nothing({}, json::object(), kText)), "");
  EXPECT_EQ(printed(print_nothing({}, json::object(), kJson)), "");
}

const json kAlice = json::parse(R"({
  "name":"alice","id":7,"mark":458752,"mark_mask":268369920,"table":10007,
  "uids":[1001],"gids":[],"netblock":["10.7.0.0/24","fd00:7::/64"],
  "route_devices":["eth1"],"route_prefixes":["0.0.0.0/0","::/0"],
  "max_routes":64,"routes":3,"max_vifs":4,"raw":["icmp","icmpv6","udp","tcp","packet"],
  "capture_all":false,"packet_send_devices":["eth1"],"rate":"50mbit","ceil":"100mbit","bind_ports":["80","443","5000-5010"],
  "max_sockbuf":33554432,"max_priority":6})");

const char kAliceText[] =
    "slice alice id 7 mark 0x70000/0xfff0000 table 10007\n"
    "    uids 1001 gids none\n"
    "    netblock 10.7.0.0/24 fd00:7::/64\n"
    "    route_devices eth1\n"
    "    route_prefixes 0.0.0.0/0 ::/0\n"
    "    routes 3/64 max_vifs 4\n"
    "    raw icmp icmpv6 udp tcp packet capture_all no packet_send_devices eth1\n"
    "    rate 50mbit ceil 100mbit\n"
    "    bind_ports 80 443 5000-5010 max_sockbuf 32MiB max_priority 6\n";

TEST(PrintSlice, Text) {
  EXPECT_EQ(printed(print_slice({}, json{{"slice", kAlice}}, kText)), kAliceText);
}

TEST(PrintSlice, TextWithoutShapingOrLists) {
  json bare = kAlice;
  bare.erase("rate");
  bare.erase("ceil");
  bare["raw"] = json::array();
  bare["capture_all"] = true;
  bare["packet_send_devices"] = json::array();
  bare["max_sockbuf"] = 1000;
  std::string text = printed(print_slice({}, json{{"slice", bare}}, kText));
  EXPECT_NE(text.find("    shaping none\n"), std::string::npos) << text;
  EXPECT_NE(text.find("    raw none capture_all yes packet_send_devices none\n"), std::string::npos) << text;
  EXPECT_NE(text.find("max_sockbuf 1000 "), std::string::npos) << text;
}

TEST(PrintSlice, JsonIsTheSliceObject) {
  auto out = print_slice({}, json{{"slice", kAlice}}, kJson);
  ASSERT_OK(out);
  EXPECT_EQ(out->back(), '\n');
  EXPECT_EQ(out->find('\n'), out->size() - 1);  // one line
  EXPECT_EQ(json::parse(*out), kAlice);
  auto pretty = print_slice({}, json{{"slice", kAlice}}, kPretty);
  ASSERT_OK(pretty);
  EXPECT_EQ(json::parse(*pretty), kAlice);
  EXPECT_NE(pretty->find("\n    \"bind_ports\""), std::string::npos);
}

TEST(PrintSlice, MalformedReply) {
  EXPECT_EQ(printed(print_slice({}, json::object(), kText)),
            "error: unexpected reply from netd: no 'slice'");
  EXPECT_EQ(printed(print_slice_list({}, json::object(), kJson)),
            "error: unexpected reply from netd: no 'slices' list");
}

TEST(PrintSliceList, TextBlocksAndJsonArray) {
  json bob = kAlice;
  bob["name"] = "bob";
  json reply = {{"slices", json::array({kAlice, bob})}};
  std::string text = printed(print_slice_list({}, reply, kText));
  EXPECT_EQ(text.substr(0, sizeof kAliceText - 1), kAliceText);
  EXPECT_NE(text.find("\nslice bob id 7 "), std::string::npos);
  EXPECT_EQ(json::parse(printed(print_slice_list({}, reply, kJson))), reply["slices"]);
}

using ErrorCase = netd::testing::ErrorReplyCase;

class DescribeErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(DescribeErrorTest, ExitCodeAndMessage) {
  netd::testing::expect_report(describe_error, GetParam());
}

INSTANTIATE_TEST_SUITE_P(
    Errors, DescribeErrorTest,
    ::testing::Values(
        ErrorCase{"io.netd.NotMember", 1, "sliceip: REASON"},
        ErrorCase{"io.netd.InvalidArgument", 1, "sliceip: REASON"},
        ErrorCase{"io.netd.PermissionDenied", 2, "sliceip: refused: REASON"},
        ErrorCase{"io.netd.ResourceExhausted", 2, "sliceip: refused: REASON"},
        ErrorCase{"io.netd.NotFound", 2, "sliceip: refused: REASON"},
        ErrorCase{"io.netd.Conflict", 2, "sliceip: refused: REASON"},
        ErrorCase{"io.netd.KernelError", 2, "sliceip: kernel: REASON"},
        ErrorCase{"org.varlink.service.MethodNotFound", 2,
                  "sliceip: netd answered org.varlink.service.MethodNotFound: REASON"},
        ErrorCase{"io.netd.Future", 2, "sliceip: netd answered io.netd.Future: REASON"}));

TEST(DescribeError, NotMemberReadsAsNetdSaysIt) {
  ErrorReport report = describe_error(
      "io.netd.NotMember", json{{"reason", "uid 1003 is not a member of any slice"}, {"errno", 1}});
  EXPECT_EQ(report.exit_code, 1);
  EXPECT_EQ(report.message, "sliceip: uid 1003 is not a member of any slice");
}

TEST(DescribeError, MissingReason) {
  EXPECT_EQ(describe_error("io.netd.KernelError", json::object()).message,
            "sliceip: kernel: io.netd.KernelError");
  EXPECT_EQ(
      describe_error("org.varlink.service.InvalidParameter", json{{"parameter", "route"}}).message,
      "sliceip: netd answered org.varlink.service.InvalidParameter");
  EXPECT_EQ(describe_error("io.netd.NotFound", json{{"reason", 5}}).message,
            "sliceip: refused: io.netd.NotFound");
}

}  // namespace
}  // namespace sliceip
