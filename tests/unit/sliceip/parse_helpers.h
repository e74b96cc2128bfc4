// Shared by the sliceip tests: run the whole command line parser on a list of words.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "tests/unit/common_cli/cli_test_helpers.h"
#include "tools/sliceip/commands.h"

namespace sliceip::testing {

using netd::testing::error_of;
using netd::testing::expect_call;
using netd::testing::ParseErrorCase;

inline netd::Result<Plan> parse(std::initializer_list<std::string_view> words) {
  return netd::testing::parse_words(parse_command_line, words);
}

// Words that make exactly one call.
struct RequestCase {
  std::vector<std::string_view> words;
  std::string method;
  std::string parameters;  // JSON text
};

inline void expect_request(const RequestCase& c) {
  expect_call(parse_command_line(c.words), c.method, c.parameters);
}

}  // namespace sliceip::testing
