// vtuntap output from canned replies: names, the table, -j; error replies → message + exit.
#include "tools/vtuntap/print.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/fixtures/test_macros.h"
#include "tests/unit/common_cli/cli_test_helpers.h"

namespace vtuntap {
namespace {

using netd::testing::printed;
using nlohmann::json;

const GlobalOptions kText{};
const GlobalOptions kJson{.json = true};
const GlobalOptions kPretty{.json = true, .pretty = true};

const json kTap = json::parse(R"({"name":"tap7-0","kind":"tap","ifindex":12,"persist":true,
    "multi_queue":false,"up":true,"mtu":1500,"promisc":false,"owner":1001,
    "addresses":[{"address":"10.7.0.9/29"}]})");
const json kTun = json::parse(R"({"name":"tun7-0","kind":"tun","ifindex":13,"persist":false,
    "multi_queue":true,"up":false,"mtu":1400,"promisc":true,"owner":1001,
    "addresses":[{"address":"10.7.0.1/30","peer":"10.7.0.2"},{"address":"fd00:7::1/64"}]})");

// The same table as the man page's example under `list`.
const char kTable[] =
    "NAME    KIND  STATE  MTU   FLAGS                ADDRESSES\n"
    "tap7-0  tap   UP     1500  persist              10.7.0.9/29\n"
    "tun7-0  tun   DOWN   1400  multi_queue,promisc  10.7.0.1/30 peer 10.7.0.2 fd00:7::1/64\n";

TEST(PrintList, Table) {
  EXPECT_EQ(printed(print_list(json{{"vifs", json::array({kTap, kTun})}}, kText)), kTable);
}

TEST(PrintList, NoDevicesPrintsNothing) {
  EXPECT_EQ(printed(print_list(json{{"vifs", json::array()}}, kText)), "");
  EXPECT_EQ(printed(print_list(json{{"vifs", json::array()}}, kJson)), "[]\n");
}

TEST(PrintList, NoFlagsNoAddressesNoTrailingBlanks) {
  json bare = json::parse(R"({"name":"tun7-1","kind":"tun","up":false,"mtu":1500,
      "persist":false,"multi_queue":false,"promisc":false,"addresses":[]})");
  EXPECT_EQ(printed(print_list(json{{"vifs", json::array({bare})}}, kText)),
            "NAME    KIND  STATE  MTU   FLAGS  ADDRESSES\n"
            "tun7-1  tun   DOWN   1500  -\n");
}

TEST(PrintList, MissingFieldsShowAsQuestionMarks) {
  EXPECT_EQ(
      vif_table(json::parse(R"([{"name":"tap7-3","mtu":"x","addresses":[{"peer":"1.2.3.4"}]}])")),
      "NAME    KIND  STATE  MTU  FLAGS  ADDRESSES\n"
      "tap7-3  ?     DOWN   ?    -      ? peer 1.2.3.4\n");
  EXPECT_EQ(vif_table(json::object()), "");
}

TEST(PrintList, JsonIsNetdsArray) {
  json vifs = json::array({kTap, kTun});
  std::string out = printed(print_list(json{{"vifs", vifs}}, kJson));
  EXPECT_EQ(out.find('\n'), out.size() - 1);  // one line
  EXPECT_EQ(json::parse(out), vifs);
  std::string pretty = printed(print_list(json{{"vifs", vifs}}, kPretty));
  EXPECT_EQ(json::parse(pretty), vifs);
  EXPECT_NE(pretty.find("\n        \"name\": \"tap7-0\""), std::string::npos) << pretty;
}

TEST(PrintList, MalformedReply) {
  EXPECT_EQ(printed(print_list(json::object(), kText)),
            "error: unexpected reply from netd: no 'vifs' list");
  EXPECT_EQ(printed(print_list(json{{"vifs", "x"}}, kJson)),
            "error: unexpected reply from netd: no 'vifs' list");
}

TEST(PrintAdded, NameOrVifObject) {
  json reply = {{"vif", kTap}};
  EXPECT_EQ(printed(print_added(reply, kText)), "tap7-0\n");
  EXPECT_EQ(json::parse(printed(print_added(reply, kJson))), kTap);
  EXPECT_EQ(printed(print_added(json::object(), kText)),
            "error: unexpected reply from netd: no 'vif'");
  EXPECT_EQ(printed(print_added(json{{"vif", {{"name", "a/b"}}}}, kText)),
            "error: unexpected reply from netd: no valid device name");
}

TEST(PrintAttached, SameAsListForThatOne) {
  json reply = {{"vif", kTun}};
  EXPECT_EQ(printed(print_attached(reply, kText)),
            printed(print_list(json{{"vifs", json::array({kTun})}}, kText)));
  EXPECT_EQ(printed(print_attached(reply, kJson)),
            printed(print_list(json{{"vifs", json::array({kTun})}}, kJson)));
}

TEST(PrintNothing, Del) { EXPECT_EQ(printed(print_nothing(json::object(), kJson)), ""); }

TEST(VifName, OfAddOrAttachReply) {
  auto name = vif_name_of(json{{"vif", kTun}});
  ASSERT_OK(name);
  EXPECT_EQ(*name, "tun7-0");
  EXPECT_ERR(vif_name_of(json::object()), EPROTO, "no 'vif'");
  EXPECT_ERR(vif_name_of(json{{"vif", {{"kind", "tun"}}}}), EPROTO, "no valid device name");
}

using ErrorCase = netd::testing::ErrorReplyCase;

class DescribeErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(DescribeErrorTest, ExitCodeAndMessage) {
  netd::testing::expect_report(describe_error, GetParam());
}

INSTANTIATE_TEST_SUITE_P(
    Errors, DescribeErrorTest,
    ::testing::Values(ErrorCase{"io.netd.NotMember", 1, "vtuntap: REASON"},
                      ErrorCase{"io.netd.InvalidArgument", 1, "vtuntap: REASON"},
                      ErrorCase{"io.netd.PermissionDenied", 2, "vtuntap: REASON"},
                      ErrorCase{"io.netd.ResourceExhausted", 2, "vtuntap: REASON"},
                      ErrorCase{"io.netd.NotFound", 2, "vtuntap: REASON"},
                      ErrorCase{"io.netd.Conflict", 2, "vtuntap: REASON"},
                      ErrorCase{"io.netd.KernelError", 2, "vtuntap: REASON"},
                      ErrorCase{
                          "org.varlink.service.MethodNotFound", 2,
                          "vtuntap: netd answered org.varlink.service.MethodNotFound: REASON"}));

TEST(DescribeError, MissingReason) {
  EXPECT_EQ(describe_error("io.netd.KernelError", json::object()).message,
            "vtuntap: io.netd.KernelError");
  EXPECT_EQ(
      describe_error("org.varlink.service.InvalidParameter", json{{"parameter", "kind"}}).message,
      "vtuntap: netd answered org.varlink.service.InvalidParameter");
}

}  // namespace
}  // namespace vtuntap
