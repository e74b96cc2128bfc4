// `sliceip exec [--] CMD [ARGS...]`: the words that start a program under the supervisor.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/fixtures/test_macros.h"
#include "tests/unit/sliceip/parse_helpers.h"
#include "tools/sliceip/exec_cmd.h"

namespace sliceip {
namespace {

using testing::error_of;
using testing::parse;

std::vector<std::string> argv_of(const netd::Result<Plan>& plan) {
  EXPECT_TRUE(plan.ok()) << (plan.ok() ? "" : plan.error().message);
  if (!plan.ok()) return {};
  EXPECT_EQ(plan->kind, Plan::Kind::kExec);
  return plan->argv;
}

TEST(ExecWords, DashDashOptional) {
  EXPECT_EQ(argv_of(parse({"exec", "ping", "-c", "3", "10.0.1.2"})),
            (std::vector<std::string>{"ping", "-c", "3", "10.0.1.2"}));
  EXPECT_EQ(argv_of(parse({"exec", "--", "ping", "-c", "3"})), (std::vector<std::string>{"ping", "-c", "3"}));
  // A command starting with '-' needs the "--".
  EXPECT_EQ(argv_of(parse({"exec", "--", "-weird"})), (std::vector<std::string>{"-weird"}));
  EXPECT_EQ(error_of(parse({"exec", "-weird"})),
            "unknown option '-weird' for 'exec' (put '--' before a command starting with '-')");
}

TEST(ExecWords, MissingCommandIsUsage) {
  EXPECT_EQ(error_of(parse({"exec"})), "'exec' needs a command (try 'sliceip exec help')");
  EXPECT_EQ(error_of(parse({"exec", "--"})), "'exec' needs a command (try 'sliceip exec help')");
  EXPECT_EQ(error_of(parse({"-a", "exec", "ls"})), "-a applies only to 'slice show', 'slice list' and 'fleet status'");
}

TEST(ExecWords, WordsAfterCommandBelongToIt) {
  // Nothing after CMD is sliceip's: not "--", not "help", not sliceip's own options.
  EXPECT_EQ(argv_of(parse({"exec", "sh", "--", "help", "-j", "--socket", "/x"})),
            (std::vector<std::string>{"sh", "--", "help", "-j", "--socket", "/x"}));
  EXPECT_EQ(argv_of(parse({"exec", "--", "--", "x"})), (std::vector<std::string>{"--", "x"}));
}

TEST(ExecWords, GlobalOptionsBeforeExecApply) {
  auto plan = parse({"--socket", "/run/other.sock", "exec", "true"});
  ASSERT_OK(plan);
  EXPECT_EQ(plan->options.socket_path, "/run/other.sock");
  EXPECT_EQ(plan->argv, (std::vector<std::string>{"true"}));
}

TEST(ExecWords, HelpBeforeTheCommand) {
  for (std::string_view word : {"help", "-h", "-help", "--help"}) {
    auto plan = parse({"exec", word});
    ASSERT_OK(plan);
    EXPECT_EQ(plan->kind, Plan::Kind::kHelp) << word;
    EXPECT_EQ(plan->text, exec_usage_text()) << word;
  }
  // After "--" it is the program's name.
  EXPECT_EQ(argv_of(parse({"exec", "--", "help"})), (std::vector<std::string>{"help"}));
}

}  // namespace
}  // namespace sliceip
