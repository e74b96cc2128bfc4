// Shared by the sliceip and vtuntap tests: a tool's command line parser run on a list of
// words, and checks of what it or a printer made that fail readably.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "lib/core/result.h"
#include "tests/fixtures/test_macros.h"
#include "tools/common/errors.h"

namespace netd::testing {

// `parse_command_line` (a tool's) on the words, as main hands it argv without argv[0].
template <typename Parse>
auto parse_words(Parse parse_command_line, std::initializer_list<std::string_view> words) {
  std::vector<std::string_view> argv(words);
  return parse_command_line(argv);
}

// The error message of a failed parse, or "(parsed)".
template <typename T>
std::string error_of(const netd::Result<T>& result) {
  return result.ok() ? "(parsed)" : result.error().message;
}

// A printer's text, or "error: " and its message.
inline std::string printed(const netd::Result<std::string>& text) {
  return text.ok() ? *text : "error: " + text.error().message;
}

// Words that fail to parse with exactly `message`.
struct ParseErrorCase {
  std::vector<std::string_view> words;
  std::string message;
};

// A plan that prints `text` on stdout and never contacts netd.
template <typename Plan>
void expect_help(const netd::Result<Plan>& plan, std::string_view text) {
  ASSERT_OK(plan);
  EXPECT_EQ(plan->kind, Plan::Kind::kHelp);
  EXPECT_EQ(plan->text, text);
  EXPECT_TRUE(plan->method.empty());
}

// A plan that sends `method` with exactly `parameters` (JSON text) and prints the reply.
template <typename Plan>
void expect_call(const netd::Result<Plan>& plan, std::string_view method,
                 std::string_view parameters) {
  ASSERT_OK(plan);
  EXPECT_EQ(plan->kind, Plan::Kind::kCall);
  EXPECT_EQ(plan->method, method);
  EXPECT_EQ(plan->parameters, nlohmann::json::parse(parameters)) << plan->parameters.dump();
  EXPECT_NE(plan->print, nullptr);
}

// An io.netd error reply (reason "REASON") and what a tool makes of it.
struct ErrorReplyCase {
  const char* name;
  int exit_code;
  const char* message;
};

inline void expect_report(cli::DescribeError describe, const ErrorReplyCase& c) {
  cli::ErrorReport report = describe(c.name, nlohmann::json{{"reason", "REASON"}, {"errno", 1}});
  EXPECT_EQ(report.exit_code, c.exit_code);
  EXPECT_EQ(report.message, c.message);
}

}  // namespace netd::testing
