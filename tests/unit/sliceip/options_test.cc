// sliceip global options: exactly the SYNOPSIS spellings, before OBJECT.
#include "tools/sliceip/options.h"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "tests/fixtures/test_macros.h"

namespace sliceip {
namespace {

netd::Result<ParsedOptions> parse(std::vector<std::string_view>& words) {
  return parse_global_options(words);
}

TEST(GlobalOptions, NoneGiven) {
  std::vector<std::string_view> words = {"route", "show"};
  auto parsed = parse(words);
  ASSERT_OK(parsed);
  EXPECT_FALSE(parsed->options.json);
  EXPECT_FALSE(parsed->options.pretty);
  EXPECT_FALSE(parsed->options.all);
  EXPECT_FALSE(parsed->options.help);
  EXPECT_EQ(parsed->options.family, AF_UNSPEC);
  EXPECT_EQ(parsed->options.socket_path, "");
  ASSERT_EQ(parsed->rest.size(), 2u);
  EXPECT_EQ(parsed->rest[0], "route");
}

TEST(GlobalOptions, EverySpelling) {
  struct Case {
    std::string_view word;
    bool GlobalOptions::*flag;
  };
  const Case cases[] = {
      {"-j", &GlobalOptions::json},     {"-json", &GlobalOptions::json},
      {"-p", &GlobalOptions::pretty},   {"-pretty", &GlobalOptions::pretty},
      {"-a", &GlobalOptions::all},      {"--all", &GlobalOptions::all},
      {"-h", &GlobalOptions::help},     {"-help", &GlobalOptions::help},
      {"--help", &GlobalOptions::help},
  };
  for (const auto& c : cases) {
    std::vector<std::string_view> words = {c.word, "route"};
    auto parsed = parse(words);
    ASSERT_OK(parsed);
    EXPECT_TRUE(parsed->options.*c.flag) << c.word;
    ASSERT_EQ(parsed->rest.size(), 1u);
  }
}

TEST(GlobalOptions, Families) {
  std::vector<std::string_view> four = {"-4", "route"};
  std::vector<std::string_view> six = {"-6", "route"};
  EXPECT_EQ(parse(four)->options.family, AF_INET);
  EXPECT_EQ(parse(six)->options.family, AF_INET6);
  std::vector<std::string_view> twice = {"-6", "-6", "route"};
  EXPECT_EQ(parse(twice)->options.family, AF_INET6);
  std::vector<std::string_view> both = {"-4", "-6", "route"};
  EXPECT_ERR(parse(both), EINVAL, "-4 and -6 exclude each other");
  EXPECT_EQ(family_name(AF_INET), "inet");
  EXPECT_EQ(family_name(AF_INET6), "inet6");
  EXPECT_EQ(family_name(AF_UNSPEC), "");
}

TEST(GlobalOptions, Socket) {
  std::vector<std::string_view> spaced = {"--socket", "/tmp/n.sock", "route"};
  auto parsed = parse(spaced);
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->options.socket_path, "/tmp/n.sock");
  EXPECT_EQ(parsed->rest.size(), 1u);

  std::vector<std::string_view> equals = {"--socket=/tmp/m.sock", "route"};
  EXPECT_EQ(parse(equals)->options.socket_path, "/tmp/m.sock");

  std::vector<std::string_view> missing = {"--socket"};
  EXPECT_ERR(parse(missing), EINVAL, "'--socket' needs a path");
  std::vector<std::string_view> empty = {"--socket=", "route"};
  EXPECT_ERR(parse(empty), EINVAL, "'--socket' needs a path");
}

TEST(GlobalOptions, Combined) {
  std::vector<std::string_view> words = {"-j", "-p", "-6", "--socket", "/s", "route", "show", "-j"};
  auto parsed = parse(words);
  ASSERT_OK(parsed);
  EXPECT_TRUE(parsed->options.json);
  EXPECT_TRUE(parsed->options.pretty);
  EXPECT_EQ(parsed->options.family, AF_INET6);
  // Options stop at OBJECT: a later -j belongs to the command (which refuses it).
  ASSERT_EQ(parsed->rest.size(), 3u);
  EXPECT_EQ(parsed->rest[2], "-j");
}

TEST(GlobalOptions, UnknownAndAbbreviatedAreRefused) {
  for (std::string_view word :
       {"-x", "-js", "-jso", "-pre", "--json", "--pretty", "-all", "-V", "--sock", "-4x", "--"}) {
    std::vector<std::string_view> words = {word, "route"};
    auto parsed = parse(words);
    ASSERT_FALSE(parsed.ok()) << word;
    EXPECT_EQ(parsed.error().message, "unknown option '" + std::string(word) + "'");
  }
}

TEST(GlobalOptions, LoneDashIsAWord) {
  // "-" is not an option (ip treats it as an argument too); the object table rejects it.
  std::vector<std::string_view> words = {"-"};
  auto parsed = parse(words);
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->rest.size(), 1u);
}

}  // namespace
}  // namespace sliceip
