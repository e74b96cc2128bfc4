// sliceip slice: show/list → io.netd.Slices.Show, or .List with -a.
#include <gtest/gtest.h>

#include "tests/fixtures/test_macros.h"
#include "tests/unit/sliceip/parse_helpers.h"

namespace sliceip {
namespace {

using testing::error_of;
using testing::parse;

// No parameters: the caller's slice, or every slice with -a.
void expect_call(const netd::Result<Plan>& plan, std::string_view method) {
  testing::expect_call(plan, method, "{}");
}

TEST(SliceCommand, ShowAndListAreTheCallersSlice) {
  expect_call(parse({"slice", "show"}), "io.netd.Slices.Show");
  expect_call(parse({"slice", "list"}), "io.netd.Slices.Show");
  expect_call(parse({"slice"}), "io.netd.Slices.Show");
}

TEST(SliceCommand, AllListsEverySlice) {
  expect_call(parse({"-a", "slice", "list"}), "io.netd.Slices.List");
  expect_call(parse({"--all", "slice", "list"}), "io.netd.Slices.List");
  expect_call(parse({"-a", "slice", "show"}), "io.netd.Slices.List");
  expect_call(parse({"-j", "-a", "slice"}), "io.netd.Slices.List");
}

TEST(SliceCommand, ExtraWordsAreRefused) {
  EXPECT_EQ(error_of(parse({"slice", "show", "alice"})),
            "unknown argument 'alice' for 'slice show'");
  EXPECT_EQ(error_of(parse({"slice", "list", "table"})),
            "unknown argument 'table' for 'slice list'");
  EXPECT_EQ(error_of(parse({"slice", "add"})),
            "unknown command 'add' for 'slice' (try 'sliceip slice help')");
}

}  // namespace
}  // namespace sliceip
