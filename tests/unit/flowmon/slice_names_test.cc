// SliceNames: FlowLog's `slices` into an id → name lookup, "" where there is no name, and the
// replies refused.
#include "tools/flowmon/slice_names.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace flowmon {
namespace {

using nlohmann::json;

TEST(SliceNames, NamesTheListedSlicesAndNothingElse) {
  auto names = SliceNames::from_reply(json::parse(
      R"({"fd": 0, "slices": [{"id": 7, "name": "alice"}, {"id": 8, "name": "bob"}, {"id": 9, "name": "mon"}]})"));
  ASSERT_TRUE(names.ok()) << names.error().message;
  EXPECT_EQ(names->size(), 3u);
  EXPECT_EQ(names->name_of(7), "alice");
  EXPECT_EQ(names->name_of(8), "bob");
  EXPECT_EQ(names->name_of(0), "");   // no slice's traffic
  EXPECT_EQ(names->name_of(42), "");  // an id netd did not list
  EXPECT_NE(names->name_of(42).data(), nullptr);  // handed to libfixbuf as a pointer
}

TEST(SliceNames, AReplyWithoutSlicesNamesNone) {
  auto names = SliceNames::from_reply(json::parse(R"({"fd": 0, "group": 19977})"));
  ASSERT_TRUE(names.ok()) << names.error().message;
  EXPECT_EQ(names->size(), 0u);
  EXPECT_EQ(names->name_of(7), "");
  EXPECT_EQ(SliceNames::from_reply(json::parse(R"({"slices": []})"))->size(), 0u);
}

TEST(SliceNames, MalformedSlicesAreRefused) {
  struct Case {
    const char* reply;
    const char* reason;
  } cases[] = {
      {R"({"slices": {"7": "alice"}})", "slices that are not an array"},
      {R"({"slices": [7]})", "without id"},
      {R"({"slices": [{"id": 7}]})", "without id 0..4294967295 and name"},
      {R"({"slices": [{"name": "alice"}]})", "without id"},
      {R"({"slices": [{"id": -1, "name": "x"}]})", "without id"},
      {R"({"slices": [{"id": 4294967296, "name": "x"}]})", "without id"},
      {R"({"slices": [{"id": "7", "name": "alice"}]})", "without id"},
      {R"({"slices": [{"id": 7, "name": 7}]})", "without id"},
      {R"({"slices": [{"id": 7, "name": "a"}, {"id": 7, "name": "b"}]})", "slice id 7 twice"},
  };
  for (const auto& c : cases) {
    auto names = SliceNames::from_reply(json::parse(c.reply));
    ASSERT_FALSE(names.ok()) << c.reply;
    EXPECT_EQ(names.error().code, EPROTO);
    EXPECT_NE(names.error().message.find(c.reason), std::string::npos) << names.error().message;
    EXPECT_NE(names.error().message.find("netd's list of slices has "), std::string::npos);
  }
}

}  // namespace
}  // namespace flowmon
