// Keyword tables match whole words only; a vif's MTU and its message.
#include "tools/common/words.h"

#include <gtest/gtest.h>

#include "tests/fixtures/test_macros.h"

namespace netd::cli {
namespace {

struct Entry {
  std::string_view word;
  int value;
};
constexpr Entry kTable[] = {{"show", 1}, {"list", 2}};

TEST(FindKeyword, WholeWordsOnly) {
  ASSERT_NE(find_keyword(kTable, "list"), nullptr);
  EXPECT_EQ(find_keyword(kTable, "list")->value, 2);
  EXPECT_EQ(find_keyword(kTable, "sh"), nullptr);
  EXPECT_EQ(find_keyword(kTable, "shows"), nullptr);
  EXPECT_EQ(find_keyword(kTable, ""), nullptr);
}

TEST(VifMtu, Range) {
  EXPECT_EQ(*parse_vif_mtu("--mtu", "68"), 68u);
  EXPECT_EQ(*parse_vif_mtu("--mtu", "65535"), 65535u);
  EXPECT_ERR(parse_vif_mtu("--mtu", "67"), EINVAL, "^'--mtu' needs a number 68..65535, got '67'$");
  EXPECT_ERR(parse_vif_mtu("mtu", "65536"), EINVAL,
             "^'mtu' needs a number 68..65535, got '65536'$");
  EXPECT_ERR(parse_vif_mtu("mtu", "x"), EINVAL, "got 'x'$");
}

}  // namespace
}  // namespace netd::cli
