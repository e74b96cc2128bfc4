// The command line as a whole: global options, then OBJECT COMMAND ARGS looked up in a table.
#pragma once

#include <span>
#include <string_view>

#include "lib/core/result.h"
#include "tools/sliceip/plan.h"

namespace sliceip {

// What -h prints: identical to the SYNOPSIS of man/sliceip.8 (tests compare them).
std::string_view usage_text();
std::string_view route_usage_text();
std::string_view address_usage_text();
std::string_view link_usage_text();
std::string_view qdisc_usage_text();
std::string_view slice_usage_text();
std::string_view shape_usage_text();
std::string_view exec_usage_text();

// argv without argv[0] → what to do. Errors are usage errors (exit 1); their message has no
// "sliceip: " prefix. No I/O.
netd::Result<Plan> parse_command_line(std::span<const std::string_view> words);

}  // namespace sliceip
