// The vtuntap command line as a whole: global options, then COMMAND ARGS looked up in a table.
#pragma once

#include <span>
#include <string_view>

#include "lib/core/result.h"
#include "tools/vtuntap/plan.h"

namespace vtuntap {

// What -h prints: identical to the SYNOPSIS of man/vtuntap.8 (tests compare them).
std::string_view usage_text();
// What `vtuntap COMMAND -h` prints: that command's lines of the synopsis. Empty for an
// unknown command.
std::string_view command_usage_text(std::string_view command);

// argv without argv[0] → what to do. Errors are usage errors (exit 1); their message has no
// "vtuntap: " prefix. No I/O.
netd::Result<Plan> parse_command_line(std::span<const std::string_view> words);

}  // namespace vtuntap
