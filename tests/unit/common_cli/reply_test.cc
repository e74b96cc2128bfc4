// Reading replies: fields of the wrong type read as absent; -j text compact or indented.
#include "tools/common/reply.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace netd::cli {
namespace {

using nlohmann::json;

const json kObject = {{"name", "tap7-0"}, {"mtu", 1500},        {"up", true},
                      {"down", false},    {"text_mtu", "1500"}, {"int_up", 1}};

TEST(ReplyFields, ByType) {
  EXPECT_EQ(string_or(kObject, "name", "?"), "tap7-0");
  EXPECT_EQ(string_or(kObject, "mtu", "?"), "?");
  EXPECT_EQ(string_or(json::array({"name"}), "name", "?"), "?");
  EXPECT_EQ(integer_text(kObject, "mtu"), "1500");
  EXPECT_EQ(integer_text(kObject, "text_mtu"), "?");
  EXPECT_TRUE(flag_of(kObject, "up"));
  EXPECT_FALSE(flag_of(kObject, "down"));
  EXPECT_FALSE(flag_of(kObject, "int_up"));
  EXPECT_FALSE(flag_of(kObject, "missing"));
  EXPECT_NE(field(kObject, "int_up"), nullptr);
  EXPECT_EQ(string_field(kObject, "mtu"), nullptr);
  EXPECT_EQ(integer_field(kObject, "name"), nullptr);
  EXPECT_EQ(field(json("text"), "name"), nullptr);
}

TEST(ReplyFields, BadReply) {
  netd::Error error = bad_reply("no 'vifs' list");
  EXPECT_EQ(error.code, EPROTO);
  EXPECT_EQ(error.message, "unexpected reply from netd: no 'vifs' list");
}

TEST(JsonText, CompactOrPretty) {
  json value = {{"a", 1}};
  EXPECT_EQ(json_text(value, GlobalOptions{.json = true}), "{\"a\":1}\n");
  EXPECT_EQ(json_text(value, GlobalOptions{.json = true, .pretty = true}), "{\n    \"a\": 1\n}\n");
  EXPECT_EQ(json_text(nlohmann::ordered_json::array(), GlobalOptions{}), "[]\n");
}

}  // namespace
}  // namespace netd::cli
