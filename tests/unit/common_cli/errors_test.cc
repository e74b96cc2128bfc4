// netd's error replies as a CLI reports them: the line, with or without labels, and the exit.
#include "tools/common/errors.h"

#include <gtest/gtest.h>

namespace netd::cli {
namespace {

using nlohmann::json;

const json kReason = {{"reason", "REASON"}, {"errno", 1}};

TEST(DescribeError, CallersMistakeExitsOneWithoutLabel) {
  for (ErrorLabels labels : {ErrorLabels::kNone, ErrorLabels::kShown}) {
    ErrorReport report = describe_error("tool", labels, "io.netd.InvalidArgument", kReason);
    EXPECT_EQ(report.exit_code, kExitUsage);
    EXPECT_EQ(report.message, "tool: REASON");
  }
}

TEST(DescribeError, LabelsOnlyWhenShown) {
  EXPECT_EQ(describe_error("tool", ErrorLabels::kShown, "io.netd.Conflict", kReason).message,
            "tool: refused: REASON");
  EXPECT_EQ(describe_error("tool", ErrorLabels::kShown, "io.netd.KernelError", kReason).message,
            "tool: kernel: REASON");
  ErrorReport plain = describe_error("tool", ErrorLabels::kNone, "io.netd.KernelError", kReason);
  EXPECT_EQ(plain.exit_code, kExitFailed);
  EXPECT_EQ(plain.message, "tool: REASON");
}

TEST(DescribeError, UnknownErrorsAreNamed) {
  ErrorReport report =
      describe_error("tool", ErrorLabels::kShown, "io.netd.Future", json{{"reason", 5}});
  EXPECT_EQ(report.exit_code, kExitFailed);
  EXPECT_EQ(report.message, "tool: netd answered io.netd.Future");
  EXPECT_EQ(describe_error("tool", ErrorLabels::kNone, "io.netd.Future", kReason).message,
            "tool: netd answered io.netd.Future: REASON");
}

}  // namespace
}  // namespace netd::cli
