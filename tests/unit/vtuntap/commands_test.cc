// vtuntap's command table: help, global options, dispatch, and the -h text against the man page.
#include "tools/vtuntap/commands.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "tests/fixtures/test_macros.h"
#include "tests/unit/common_cli/man_synopsis.h"
#include "tests/unit/vtuntap/parse_helpers.h"

namespace vtuntap {
namespace {

using netd::testing::expect_help;
using testing::error_of;
using testing::parse;

TEST(Help, GlobalOptionPrintsTheWholeUsage) {
  expect_help(parse({"-h"}), usage_text());
  expect_help(parse({"--help"}), usage_text());
  expect_help(parse({"-j", "--help", "add", "nonsense"}), usage_text());
}

TEST(Help, AfterACommandPrintsItsUsage) {
  for (std::string_view command : {"add", "run", "attach", "del", "delete", "list", "show"}) {
    expect_help(parse({command, "-h"}), command_usage_text(command));
    expect_help(parse({command, "--help"}), command_usage_text(command));
  }
  // Help wins over words that would not parse.
  expect_help(parse({"add", "bogus", "--mtu", "x", "-h"}), command_usage_text("add"));
  EXPECT_NE(command_usage_text("add").find("DEVICE-OPTIONS :="), std::string_view::npos);
  EXPECT_EQ(command_usage_text("frob"), "");
}

TEST(Help, AfterDoubleDashBelongsToTheProgram) {
  auto plan = parse({"run", "tun", "--", "prog", "-h"});
  ASSERT_OK(plan);
  EXPECT_EQ(plan->kind, Plan::Kind::kExec);
  EXPECT_EQ(plan->command, (std::vector<std::string>{"prog", "-h"}));
  auto attach = parse({"attach", "tap7-0", "--", "prog", "--help"});
  ASSERT_OK(attach);
  EXPECT_EQ(attach->kind, Plan::Kind::kExec);
}

TEST(Help, CommandUsageIsPartOfTheWholeUsage) {
  for (std::string_view command : {"add", "run", "attach", "del", "list"}) {
    std::istringstream lines{std::string(command_usage_text(command))};
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("Usage: ", 0) == 0) line = line.substr(7);
      while (!line.empty() && line.front() == ' ') line.erase(0, 1);
      EXPECT_NE(usage_text().find(line), std::string_view::npos) << line;
    }
  }
}

TEST(Help, UsageIsTheManPageSynopsis) {
  std::vector<std::string> synopsis = netd::testing::man_synopsis_words(VTUNTAP_MAN_PAGE);
  ASSERT_FALSE(synopsis.empty()) << VTUNTAP_MAN_PAGE;
  ASSERT_EQ(netd::testing::words_of(std::string(usage_text())).front(), "Usage:");
  EXPECT_EQ(synopsis, netd::testing::usage_words(std::string(usage_text())));
}

TEST(Dispatch, MissingOrUnknownCommand) {
  const std::string missing = "missing COMMAND: add, run, attach, del or list (try 'vtuntap -h')";
  EXPECT_EQ(error_of(parse({})), missing);
  EXPECT_EQ(error_of(parse({"-j", "-s", "/x.sock"})), missing);
  EXPECT_EQ(error_of(parse({"frob"})), "unknown command 'frob' (try 'vtuntap -h')");
  // whole words only, no prefixes
  EXPECT_EQ(error_of(parse({"ad", "tun"})), "unknown command 'ad' (try 'vtuntap -h')");
  EXPECT_EQ(error_of(parse({"ls"})), "unknown command 'ls' (try 'vtuntap -h')");
  EXPECT_EQ(error_of(parse({"-"})), "unknown command '-' (try 'vtuntap -h')");
}

TEST(GlobalOptions, UnknownOrIncomplete) {
  EXPECT_EQ(error_of(parse({"-x", "list"})), "unknown option '-x'");
  EXPECT_EQ(error_of(parse({"--json=yes", "list"})), "unknown option '--json=yes'");
  EXPECT_EQ(error_of(parse({"-json", "list"})), "unknown option '-json'");  // not ip's spelling
  EXPECT_EQ(error_of(parse({"-s"})), "'-s' needs a path");
  EXPECT_EQ(error_of(parse({"--socket"})), "'--socket' needs a path");
  EXPECT_EQ(error_of(parse({"--socket=", "list"})), "'--socket' needs a path");
}

TEST(GlobalOptions, ReachThePlan) {
  for (auto words : std::vector<std::vector<std::string_view>>{
           {"-j", "-p", "-s", "/tmp/x.sock", "list"},
           {"--json", "--pretty", "--socket", "/tmp/x.sock", "list"},
           {"--socket=/tmp/x.sock", "-j", "-p", "list"},
       }) {
    auto plan = parse_command_line(words);
    ASSERT_OK(plan);
    EXPECT_TRUE(plan->options.json);
    EXPECT_TRUE(plan->options.pretty);
    EXPECT_EQ(plan->options.socket_path, "/tmp/x.sock");
  }
  auto plan = parse({"add", "tap", "--persist"});
  ASSERT_OK(plan);
  EXPECT_FALSE(plan->options.json);
  EXPECT_EQ(plan->options.socket_path, "");
}

TEST(GlobalOptions, AfterTheCommandTheyGetAHint) {
  EXPECT_EQ(error_of(parse({"add", "tap", "--persist", "-j"})),
            "unknown option '-j' for 'add' (a global option: it goes before COMMAND)");
  EXPECT_EQ(error_of(parse({"del", "tap7-0", "-s", "/x"})),
            "unknown option '-s' for 'del' (a global option: it goes before COMMAND)");
  EXPECT_EQ(error_of(parse({"run", "tun", "--socket=/x", "--", "prog"})),
            "unknown option '--socket=/x' for 'run' (a global option: it goes before COMMAND)");
}

}  // namespace
}  // namespace vtuntap
