// sliceip's command table: help, objects, commands, and the -h text against the man page.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fixtures/test_macros.h"
#include "tests/unit/sliceip/parse_helpers.h"

namespace sliceip {
namespace {

using testing::error_of;
using testing::parse;

void expect_help(const netd::Result<Plan>& plan, std::string_view text) {
  ASSERT_OK(plan);
  EXPECT_EQ(plan->kind, Plan::Kind::kHelp);
  EXPECT_EQ(plan->text, text);
  EXPECT_TRUE(plan->method.empty());
}

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
  expect_help(parse({"slice", "help"}), slice_usage_text());
}

TEST(Help, ObjectUsageIsPartOfTheWholeUsage) {
  // Each line of an object's usage, without "Usage: ", appears in the full usage.
  for (std::string_view text : {route_usage_text(), slice_usage_text()}) {
    std::istringstream lines{std::string(text)};
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("Usage: ", 0) == 0) line = line.substr(7);
      while (!line.empty() && line.front() == ' ') line.erase(0, 1);
      EXPECT_NE(usage_text().find(line), std::string_view::npos) << line;
    }
  }
}

// The words of a text, whitespace ignored.
std::vector<std::string> words_of(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

// The SYNOPSIS section of a man page, font escapes and requests removed.
std::string synopsis_of_man_page(const std::string& page) {
  std::istringstream in(page);
  std::string text;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(".SH", 0) == 0) {
      inside = line.find("SYNOPSIS") != std::string::npos;
      continue;
    }
    if (!inside || line.rfind(".", 0) == 0) continue;
    for (std::string_view escape : {"\\fB", "\\fI", "\\fR", "\\fP", "\\&"})
      for (size_t at; (at = line.find(escape)) != std::string::npos;) line.erase(at, escape.size());
    for (size_t at; (at = line.find("\\-")) != std::string::npos;) line.erase(at, 1);
    text += line + "\n";
  }
  return text;
}

TEST(Help, UsageIsTheManPageSynopsis) {
  std::ifstream file(SLICEIP_MAN_PAGE);
  ASSERT_TRUE(file.good()) << SLICEIP_MAN_PAGE;
  std::stringstream page;
  page << file.rdbuf();
  std::vector<std::string> usage = words_of(std::string(usage_text()));
  ASSERT_EQ(usage.front(), "Usage:");
  usage.erase(usage.begin());
  EXPECT_EQ(words_of(synopsis_of_man_page(page.str())), usage);
}

TEST(Dispatch, MissingOrUnknownObject) {
  EXPECT_EQ(error_of(parse({})), "missing OBJECT: route or slice (try 'sliceip -h')");
  EXPECT_EQ(error_of(parse({"-j"})), "missing OBJECT: route or slice (try 'sliceip -h')");
  EXPECT_EQ(error_of(parse({"addr", "show"})), "unknown object 'addr' (try 'sliceip -h')");
  EXPECT_EQ(error_of(parse({"-"})), "unknown object '-' (try 'sliceip -h')");
}

TEST(Dispatch, UnknownCommand) {
  EXPECT_EQ(error_of(parse({"route", "change", "10.0.0.0/8"})),
            "unknown command 'change' for 'route' (try 'sliceip route help')");
  EXPECT_EQ(error_of(parse({"route", "save"})),
            "unknown command 'save' for 'route' (try 'sliceip route help')");
}

TEST(Dispatch, AllOnlyForSlices) {
  EXPECT_EQ(error_of(parse({"-a", "route", "show"})),
            "-a applies only to 'slice show' and 'slice list'");
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
