// sliceip shape: show/list → io.netd.Shaping.Show; set [rate R] [ceil C] → .Set with bit/s; and
// the printers.
#include "tools/sliceip/shape_cmd.h"

#include <gtest/gtest.h>

#include "tests/fixtures/test_macros.h"
#include "tests/unit/sliceip/parse_helpers.h"

namespace sliceip {
namespace {

using testing::error_of;
using testing::expect_request;
using testing::parse;

TEST(ShapeCommand, ShowAndListAndTheObjectAlone) {
  for (const auto& words : {std::vector<std::string_view>{"shape", "show"}, {"shape", "list"}, {"shape"}})
    expect_request({words, "io.netd.Shaping.Show", "{}"});
}

TEST(ShapeCommand, SetTakesTcRatesInBitsPerSecond) {
  expect_request({{"shape", "set", "rate", "10mbit"}, "io.netd.Shaping.Set", R"({"rate":10000000})"});
  expect_request({{"shape", "set", "ceil", "1gbit"}, "io.netd.Shaping.Set", R"({"ceil":1000000000})"});
  expect_request({{"shape", "set", "ceil", "30mbit", "rate", "800kbit"},
                  "io.netd.Shaping.Set",
                  R"({"ceil":30000000,"rate":800000})"});
  expect_request({{"shape", "set", "rate_in", "5mbit", "ceil_in", "8mbit"},
                  "io.netd.Shaping.Set",
                  R"({"ceil_in":8000000,"rate_in":5000000})"});
  expect_request({{"shape", "set"}, "io.netd.Shaping.Set", "{}"});  // restore
}

TEST(ShapeCommand, BadWordsAreRefused) {
  EXPECT_EQ(error_of(parse({"shape", "set", "burst", "10k"})),
            "unknown argument 'burst' for 'shape set' (rate RATE, ceil RATE, rate_in RATE, ceil_in RATE)");
  EXPECT_EQ(error_of(parse({"shape", "set", "ceil_in"})), "'ceil_in' needs a rate (e.g. 10mbit)");
  EXPECT_EQ(error_of(parse({"shape", "set", "rate_in", "1mbit", "rate_in", "2mbit"})), "'rate_in' given twice");
  EXPECT_EQ(error_of(parse({"shape", "set", "rate"})), "'rate' needs a rate (e.g. 10mbit)");
  EXPECT_EQ(error_of(parse({"shape", "set", "rate", "1mbit", "rate", "2mbit"})), "'rate' given twice");
  EXPECT_NE(error_of(parse({"shape", "set", "rate", "fast"})).find("'rate': "), std::string::npos);
  EXPECT_EQ(error_of(parse({"shape", "show", "alice"})), "unknown argument 'alice' for 'shape show'");
  EXPECT_EQ(error_of(parse({"shape", "add"})), "unknown command 'add' for 'shape' (try 'sliceip shape help')");
}

nlohmann::json show_reply(bool shaped, bool lowered) {
  nlohmann::json reply = {{"slice", "alice"}, {"lowered", lowered}};
  if (shaped) {
    reply["policy"] = {{"rate", 20000000}, {"ceil", 50000000}};
    reply["current"] = lowered ? nlohmann::json{{"rate", 10000000}, {"ceil", 10000000}} : reply["policy"];
  }
  reply["uplinks"] = {{{"device", "eth0"}, {"ifindex", 2}, {"classid", shaped ? "4e44:7" : "4e44:fffe"},
                       {"rate", 10000000}, {"ceil", 10000000}, {"bytes", 1514}, {"packets", 1}}};
  reply["lowered_in"] = false;
  reply["uplinks_in"] = nlohmann::json::array();
  if (shaped) {
    reply["policy_in"] = {{"rate", 30000000}, {"ceil", 30000000}};
    reply["current_in"] = reply["policy_in"];
    reply["uplinks_in"] = {{{"device", "eth0"}, {"ifb", "netdi2"}, {"ifindex", 2}, {"classid", "4e44:7"},
                            {"rate", 30000000}, {"ceil", 30000000}, {"bytes", 3028}, {"packets", 2}}};
  }
  return reply;
}

TEST(ShapePrint, Text) {
  GlobalOptions text;
  auto lowered = print_shape({}, show_reply(true, true), text);
  ASSERT_OK(lowered);
  EXPECT_EQ(*lowered,
            "shape alice rate 10mbit ceil 10mbit (lowered; policy rate 20mbit ceil 50mbit)\n"
            "    dev eth0 class 4e44:7 rate 10mbit ceil 10mbit sent 1514 bytes 1 pkt\n"
            "shape alice download rate 30mbit ceil 30mbit (policy)\n"
            "    dev eth0 via netdi2 class 4e44:7 rate 30mbit ceil 30mbit received 3028 bytes 2 pkt\n");
  auto policy = print_shape({}, show_reply(true, false), text);
  ASSERT_OK(policy);
  EXPECT_EQ(policy->substr(0, policy->find('\n')), "shape alice rate 20mbit ceil 50mbit (policy)");
  auto unshaped = print_shape({}, show_reply(false, false), text);
  ASSERT_OK(unshaped);
  EXPECT_EQ(*unshaped,
            "shape alice unshaped (default class)\n"
            "    dev eth0 class 4e44:fffe rate 10mbit ceil 10mbit sent 1514 bytes 1 pkt\n"
            "shape alice download unshaped (default class)\n");
}

TEST(ShapePrint, JsonAndSet) {
  GlobalOptions json;
  json.json = true;
  auto shown = print_shape({}, show_reply(true, true), json);
  ASSERT_OK(shown);
  EXPECT_EQ(nlohmann::json::parse(*shown), show_reply(true, true));
  nlohmann::json set_reply = {{"current", {{"rate", 1}, {"ceil", 2}}}};
  EXPECT_EQ(*print_shape_set({}, set_reply, GlobalOptions{}), "");
  EXPECT_EQ(*print_shape_set({}, set_reply, json), "{\"current\":{\"ceil\":2,\"rate\":1}}\n");
  EXPECT_ERR(print_shape({}, nlohmann::json::object(), json), EPROTO, "no 'uplinks' list");
  EXPECT_ERR(print_shape_set({}, nlohmann::json::object(), json), EPROTO, "no 'current' limits");
}

}  // namespace
}  // namespace sliceip
