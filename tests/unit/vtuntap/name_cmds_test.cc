// vtuntap attach / del / list: words → exact io.netd.Vifs requests, and the usage errors.
#include "tools/vtuntap/name_cmds.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/fixtures/test_macros.h"
#include "tests/unit/vtuntap/parse_helpers.h"

namespace vtuntap {
namespace {

using nlohmann::json;
using testing::error_of;
using testing::expect_call;
using testing::parse;

TEST(Attach, WithoutProgramPrintsTheDevice) {
  expect_call(parse({"attach", "tap7-0"}), "io.netd.Vifs.Attach", R"({"name":"tap7-0"})");
}

TEST(Attach, WithProgramExecs) {
  auto plan = parse({"attach", "tap7-0", "--", "prog", "a", "--", "b"});
  ASSERT_OK(plan);
  EXPECT_EQ(plan->kind, Plan::Kind::kExec);
  EXPECT_EQ(plan->method, "io.netd.Vifs.Attach");
  EXPECT_EQ(plan->parameters, json::parse(R"({"name":"tap7-0"})"));
  EXPECT_EQ(plan->command, (std::vector<std::string>{"prog", "a", "--", "b"}));
}

TEST(Attach, UsageErrors) {
  EXPECT_EQ(error_of(parse({"attach"})), "'attach' needs a device NAME");
  EXPECT_EQ(error_of(parse({"attach", "--", "prog"})), "'attach' needs a device NAME");
  EXPECT_EQ(error_of(parse({"attach", "tap7-0", "--"})), "'attach' needs a program after '--'");
  EXPECT_EQ(error_of(parse({"attach", "tap7-0", "prog"})),
            "'attach' takes one NAME, got 'tap7-0' and 'prog'");
  EXPECT_EQ(error_of(parse({"attach", "tap7-0", "--persist"})),
            "unknown option '--persist' for 'attach'");
  EXPECT_EQ(error_of(parse({"attach", "a/b"})), "'a/b' is not a device name");
  EXPECT_EQ(error_of(parse({"attach", "a-very-long-name0"})),
            "'a-very-long-name0' is not a device name");
}

TEST(Del, BothSpellings) {
  expect_call(parse({"del", "tap7-0"}), "io.netd.Vifs.Delete", R"({"name":"tap7-0"})");
  expect_call(parse({"delete", "tun7-3"}), "io.netd.Vifs.Delete", R"({"name":"tun7-3"})");
}

TEST(Del, UsageErrors) {
  EXPECT_EQ(error_of(parse({"del"})), "'del' needs a device NAME");
  EXPECT_EQ(error_of(parse({"delete"})), "'delete' needs a device NAME");
  EXPECT_EQ(error_of(parse({"del", "tap7-0", "tap7-1"})),
            "'del' takes one NAME, got 'tap7-0' and 'tap7-1'");
  EXPECT_EQ(error_of(parse({"del", "tap7-0", "--", "prog"})),
            "'del' starts no program ('--' is for run and attach)");
  EXPECT_EQ(error_of(parse({"list", "--", "prog"})),
            "'list' starts no program ('--' is for run and attach)");
  EXPECT_EQ(error_of(parse({"del", ".."})), "'..' is not a device name");
}

TEST(List, EveryDeviceOrOne) {
  expect_call(parse({"list"}), "io.netd.Vifs.List", "{}");
  expect_call(parse({"show"}), "io.netd.Vifs.List", "{}");
  expect_call(parse({"list", "tap7-0"}), "io.netd.Vifs.List", R"({"name":"tap7-0"})");
}

TEST(List, JsonBeforeOrAfterTheCommand) {
  for (auto words : std::vector<std::vector<std::string_view>>{{"-j", "list"},
                                                               {"list", "-j"},
                                                               {"list", "--json"},
                                                               {"--json", "list", "tap7-0"},
                                                               {"list", "tap7-0", "-j"}}) {
    auto plan = parse_command_line(words);
    ASSERT_OK(plan);
    EXPECT_TRUE(plan->options.json);
    EXPECT_FALSE(plan->options.pretty);
  }
  auto pretty = parse({"list", "-j", "-p"});
  ASSERT_OK(pretty);
  EXPECT_TRUE(pretty->options.pretty);
  auto plain = parse({"list"});
  ASSERT_OK(plain);
  EXPECT_FALSE(plain->options.json);
}

TEST(List, UsageErrors) {
  EXPECT_EQ(error_of(parse({"list", "tap7-0", "tap7-1"})),
            "'list' takes one NAME, got 'tap7-0' and 'tap7-1'");
  EXPECT_EQ(error_of(parse({"list", "-a"})), "unknown option '-a' for 'list'");
  EXPECT_EQ(error_of(parse({"show", "-s", "/x"})),
            "unknown option '-s' for 'show' (a global option: it goes before COMMAND)");
}

}  // namespace
}  // namespace vtuntap
