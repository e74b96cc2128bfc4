// sliceip's command table: help, objects, commands, and the -h text against the man page.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "tests/fixtures/test_macros.h"
#include "tests/unit/common_cli/man_synopsis.h"
#include "tests/unit/sliceip/parse_helpers.h"

namespace sliceip {
namespace {

using netd::testing::expect_help;
using netd::testing::words_of;
using testing::error_of;
using testing::parse;

TEST(Help, OptionsPrintTheWholeUsage) {
  expect_help(parse({"-h"}), usage_text());
  expect_help(parse({"-help"}), usage_text());
  expect_help(parse({"--help"}), usage_text());
  // -h wins over whatever follows, even words that would not parse.
  expect_help(parse({"-h", "route", "add", "nonsense"}), usage_text());
  expect_help(parse({"-j", "--help"}), usage_text());
}

TEST(Help, HelpWords) {
  expect_help(parse({"help"}), usage_text());
  expect_help(parse({"route", "help"}), route_usage_text());
  expect_help(parse({"address", "help"}), address_usage_text());
  expect_help(parse({"addr", "help"}), address_usage_text());
  expect_help(parse({"link", "help"}), link_usage_text());
  expect_help(parse({"qdisc", "help"}), qdisc_usage_text());
  expect_help(parse({"slice", "help"}), slice_usage_text());
  expect_help(parse({"shape", "help"}), shape_usage_text());
}

TEST(Help, ObjectUsageIsPartOfTheWholeUsage) {
  // Each line of an object's usage, without "Usage: ", appears in the full usage.
  for (std::string_view text :
       {route_usage_text(), address_usage_text(), link_usage_text(), qdisc_usage_text(), slice_usage_text(),
        shape_usage_text(), exec_usage_text()}) {
    std::istringstream lines{std::string(text)};
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("Usage: ", 0) == 0) line = line.substr(7);
      while (!line.empty() && line.front() == ' ') line.erase(0, 1);
      EXPECT_NE(usage_text().find(line), std::string_view::npos) << line;
    }
  }
}

TEST(Help, UsageIsTheManPageSynopsis) {
  std::vector<std::string> synopsis = netd::testing::man_synopsis_words(SLICEIP_MAN_PAGE);
  ASSERT_FALSE(synopsis.empty()) << SLICEIP_MAN_PAGE;
  ASSERT_EQ(words_of(std::string(usage_text())).front(), "Usage:");
  EXPECT_EQ(synopsis, netd::testing::usage_words(std::string(usage_text())));
}

TEST(Dispatch, MissingOrUnknownObject) {
  const std::string missing = "missing OBJECT: route, address, link, qdisc, slice or shape (try 'sliceip -h')";
  EXPECT_EQ(error_of(parse({})), missing);
  EXPECT_EQ(error_of(parse({"-j"})), missing);
  EXPECT_EQ(error_of(parse({"-"})), "unknown object '-' (try 'sliceip -h')");
  EXPECT_EQ(error_of(parse({"neigh", "show"})), "unknown object 'neigh' (try 'sliceip -h')");
}

TEST(Dispatch, AliasesAreWholeWordsNotPrefixes) {
  for (std::string_view object : {"address", "addr", "a"}) {
    auto plan = parse({object, "show"});
    ASSERT_OK(plan);
    EXPECT_EQ(plan->method, "io.netd.Vifs.List") << object;
  }
  for (std::string_view object : {"link", "l"}) {
    auto plan = parse({object, "show"});
    ASSERT_OK(plan);
    EXPECT_EQ(plan->method, "io.netd.Vifs.List") << object;
  }
  EXPECT_EQ(error_of(parse({"ad", "show"})), "unknown object 'ad' (try 'sliceip -h')");
  EXPECT_EQ(error_of(parse({"addre", "show"})), "unknown object 'addre' (try 'sliceip -h')");
  EXPECT_EQ(error_of(parse({"li", "show"})), "unknown object 'li' (try 'sliceip -h')");
  EXPECT_EQ(error_of(parse({"r", "show"})), "unknown object 'r' (try 'sliceip -h')");
}

TEST(Dispatch, UnknownCommand) {
  EXPECT_EQ(error_of(parse({"route", "change", "10.0.0.0/8"})),
            "unknown command 'change' for 'route' (try 'sliceip route help')");
  EXPECT_EQ(error_of(parse({"route", "save"})),
            "unknown command 'save' for 'route' (try 'sliceip route help')");
}

TEST(Dispatch, AllOnlyForSlices) {
  EXPECT_EQ(error_of(parse({"-a", "route", "show"})),
            "-a applies only to 'slice show', 'slice list' and 'fleet status'");
  EXPECT_EQ(error_of(parse({"-a", "link", "show"})),
            "-a applies only to 'slice show', 'slice list' and 'fleet status'");
}

TEST(Dispatch, OptionsReachThePlan) {
  auto plan = parse({"-j", "-p", "--socket", "/tmp/x.sock", "route", "show"});
  ASSERT_OK(plan);
  EXPECT_TRUE(plan->options.json);
  EXPECT_TRUE(plan->options.pretty);
  EXPECT_EQ(plan->options.socket_path, "/tmp/x.sock");
}

TEST(Dispatch, RefusalKeepsOptions) {
  auto plan = parse({"--socket", "/tmp/x.sock", "route", "add", "10.0.0.0/8", "table", "main"});
  ASSERT_OK(plan);
  EXPECT_EQ(plan->kind, Plan::Kind::kRefused);
  EXPECT_EQ(plan->options.socket_path, "/tmp/x.sock");
}

}  // namespace
}  // namespace sliceip
