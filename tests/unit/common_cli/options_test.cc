// Global options as the shared parser reads them from a tool's table of spellings.
#include "tools/common/options.h"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "tests/fixtures/test_macros.h"

namespace netd::cli {
namespace {

constexpr OptionSpelling kEvery[] = {
    {"-j", Option::kJson}, {"-p", Option::kPretty}, {"-4", Option::kInet},   {"-6", Option::kInet6},
    {"-a", Option::kAll},  {"-h", Option::kHelp},   {"-s", Option::kSocket},
};
constexpr OptionSpelling kOnlyJson[] = {{"--json", Option::kJson}};

netd::Result<ParsedOptions> parse(std::vector<std::string_view>& words,
                                  std::span<const OptionSpelling> spellings = kEvery) {
  return parse_global_options(words, spellings);
}

TEST(GlobalOptions, EachOptionSetsItsField) {
  std::vector<std::string_view> words = {"-j", "-p", "-6", "-a", "-h", "-s", "/s", "route"};
  auto parsed = parse(words);
  ASSERT_OK(parsed);
  EXPECT_TRUE(parsed->options.json);
  EXPECT_TRUE(parsed->options.pretty);
  EXPECT_EQ(parsed->options.family, AF_INET6);
  EXPECT_TRUE(parsed->options.all);
  EXPECT_TRUE(parsed->options.help);
  EXPECT_EQ(parsed->options.socket_path, "/s");
  ASSERT_EQ(parsed->rest.size(), 1u);
  EXPECT_EQ(parsed->rest[0], "route");
}

TEST(GlobalOptions, OnlyTheToolsSpellings) {
  std::vector<std::string_view> words = {"--json", "-j"};
  EXPECT_ERR(parse(words, kOnlyJson), EINVAL, "^unknown option '-j'$");
  EXPECT_TRUE(is_global_option("--json", kOnlyJson));
  EXPECT_FALSE(is_global_option("-j", kOnlyJson));
  EXPECT_FALSE(is_global_option("--js", kOnlyJson));
  // --socket=PATH is every tool's.
  EXPECT_TRUE(is_global_option("--socket=/s", kOnlyJson));
}

TEST(GlobalOptions, SocketNeedsAPath) {
  std::vector<std::string_view> missing = {"-j", "-s"};
  EXPECT_ERR(parse(missing), EINVAL, "^'-s' needs a path$");
  std::vector<std::string_view> empty = {"--socket=", "route"};
  EXPECT_ERR(parse(empty), EINVAL, "^'--socket' needs a path$");
  std::vector<std::string_view> equals = {"--socket=/run/n.sock"};
  EXPECT_EQ(parse(equals)->options.socket_path, "/run/n.sock");
  // The value is taken whatever it looks like, and the last one wins.
  std::vector<std::string_view> dashed = {"-s", "-j", "-s", "/b", "x"};
  EXPECT_EQ(parse(dashed)->options.socket_path, "/b");
  EXPECT_FALSE(parse(dashed)->options.json);
}

TEST(GlobalOptions, FamiliesExcludeEachOther) {
  std::vector<std::string_view> twice = {"-4", "-4"};
  EXPECT_EQ(parse(twice)->options.family, AF_INET);
  std::vector<std::string_view> both = {"-6", "-4"};
  EXPECT_ERR(parse(both), EINVAL, "^-4 and -6 exclude each other$");
}

TEST(GlobalOptions, StopAtTheFirstWord) {
  std::vector<std::string_view> words = {"-", "-j"};
  auto parsed = parse(words);
  ASSERT_OK(parsed);
  EXPECT_FALSE(parsed->options.json);
  EXPECT_EQ(parsed->rest.size(), 2u);
  std::vector<std::string_view> none;
  EXPECT_TRUE(parse(none)->rest.empty());
}

}  // namespace
}  // namespace netd::cli
