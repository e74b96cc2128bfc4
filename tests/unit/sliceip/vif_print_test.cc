// sliceip address show / link show output: ip-like text and -j JSON from sample List replies.
#include "tools/sliceip/vif_print.h"

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

const json kTap = json::parse(R"({"name":"tap7-0","kind":"tap","ifindex":12,"persist":true,
    "multi_queue":false,"up":true,"mtu":1500,"promisc":true,"owner":1001,
    "addresses":[{"address":"10.7.0.1/24"},{"address":"fd00:7::1/64"}]})");
const json kTun = json::parse(R"({"name":"tun7-0","kind":"tun","ifindex":13,"persist":false,
    "multi_queue":true,"up":false,"mtu":1400,"promisc":false,"owner":1001,
    "addresses":[{"address":"10.7.0.5/30","peer":"10.7.0.6"}]})");
const json kBare = json::parse(R"({"name":"tun7-1","kind":"tun","ifindex":14,"persist":false,
    "multi_queue":false,"up":false,"mtu":1500,"promisc":false,"owner":1001,"addresses":[]})");
const json kReply = {{"vifs", json::array({kTap, kTun, kBare})}};

const char kTapText[] =
    "12: tap7-0: <UP,PROMISC> mtu 1500\n"
    "    kind tap owner 1001 persist on multi_queue off\n";
const char kTunText[] =
    "13: tun7-0: <> mtu 1400\n"
    "    kind tun owner 1001 persist off multi_queue on\n";
const char kBareText[] =
    "14: tun7-1: <> mtu 1500\n"
    "    kind tun owner 1001 persist off multi_queue off\n";

TEST(AddressShow, TextLikeIpAddressShow) {
  EXPECT_EQ(printed(print_addr_show({}, kReply, kText)),
            std::string(kTapText) +
                "    inet 10.7.0.1/24\n"
                "    inet6 fd00:7::1/64\n" +
                kTunText + "    inet 10.7.0.5 peer 10.7.0.6/30\n" +  // ip's way with a peer
                kBareText);
}

TEST(AddressShow, FamilyFilterSkipsVifsWithoutSuchAddress) {
  GlobalOptions six{.family = AF_INET6};
  EXPECT_EQ(printed(print_addr_show({}, kReply, six)),
            std::string(kTapText) + "    inet6 fd00:7::1/64\n");
  GlobalOptions four{.family = AF_INET};
  EXPECT_EQ(printed(print_addr_show({}, kReply, four)), std::string(kTapText) +
                                                            "    inet 10.7.0.1/24\n" + kTunText +
                                                            "    inet 10.7.0.5 peer 10.7.0.6/30\n");
}

TEST(AddressShow, JsonWithIpKeys) {
  json out = json::parse(printed(print_addr_show({}, kReply, kJson)));
  ASSERT_TRUE(out.is_array());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], json::parse(R"({"ifindex":12,"ifname":"tap7-0","flags":["UP","PROMISC"],
      "mtu":1500,"kind":"tap","owner":1001,"persist":true,"multi_queue":false,"addr_info":[
      {"family":"inet","local":"10.7.0.1","prefixlen":24},
      {"family":"inet6","local":"fd00:7::1","prefixlen":64}]})"));
  EXPECT_EQ(out[1]["addr_info"],
            json::parse(R"([{"family":"inet","local":"10.7.0.5","address":"10.7.0.6",
                "prefixlen":30}])"));
  EXPECT_EQ(out[1]["flags"], json::array());
  EXPECT_EQ(out[2]["addr_info"], json::array());
}

TEST(AddressShow, JsonKeysInIpOrderOnOneLine) {
  std::string text = printed(print_addr_show({}, json{{"vifs", json::array({kTun})}}, kJson));
  EXPECT_EQ(
      text,
      R"([{"ifindex":13,"ifname":"tun7-0","flags":[],"mtu":1400,"kind":"tun","owner":1001,)"
      R"("persist":false,"multi_queue":true,"addr_info":[{"family":"inet","local":"10.7.0.5",)"
      R"("address":"10.7.0.6","prefixlen":30}]}])"
      "\n");
}

TEST(LinkShow, TextAndJsonWithoutAddresses) {
  EXPECT_EQ(printed(print_link_show({}, kReply, kText)),
            std::string(kTapText) + kTunText + kBareText);
  // -4/-6 does not filter links
  GlobalOptions six{.family = AF_INET6};
  EXPECT_EQ(printed(print_link_show({}, kReply, six)),
            std::string(kTapText) + kTunText + kBareText);
  json out = json::parse(printed(print_link_show({}, kReply, kJson)));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_FALSE(out[0].contains("addr_info"));
  EXPECT_EQ(out[0]["ifname"], "tap7-0");
}

TEST(VifPrint, EmptyListPrintsNothingOrEmptyArray) {
  json empty = {{"vifs", json::array()}};
  EXPECT_EQ(printed(print_addr_show({}, empty, kText)), "");
  EXPECT_EQ(printed(print_link_show({}, empty, kJson)), "[]\n");
}

TEST(VifPrint, MalformedReply) {
  EXPECT_EQ(printed(print_addr_show({}, json::object(), kText)),
            "error: unexpected reply from netd: no 'vifs' list");
  EXPECT_EQ(printed(print_link_show({}, json{{"vifs", 3}}, kJson)),
            "error: unexpected reply from netd: no 'vifs' list");
}

TEST(VifPrint, MissingFieldsAndBadAddressesAreSkipped) {
  json odd = json::parse(R"({"name":"tap7-2","addresses":[{"address":"nonsense"},{"peer":"x"},
      {"address":"10.7.0.9/32"}]})");
  EXPECT_EQ(vif_text(odd, true, AF_UNSPEC),
            "?: tap7-2: <> mtu ?\n"
            "    kind ? owner ? persist off multi_queue off\n"
            "    inet 10.7.0.9/32\n");
  EXPECT_EQ(vif_json(odd, false, AF_UNSPEC).dump(), R"({"ifname":"tap7-2","flags":[]})");
}

}  // namespace
}  // namespace sliceip
