// `sliceip exec [--] CMD [ARGS...]`: the words → a Plan that runs CMD under the supervisor
// (tools/sliceip/exec/). Pure. Nothing after CMD is parsed: it is the program's own argv.
#pragma once

#include <span>
#include <string_view>

#include "lib/core/result.h"
#include "tools/sliceip/options.h"
#include "tools/sliceip/plan.h"

namespace sliceip {

std::string_view exec_usage_text();

// args: the words after "exec". "--" ends sliceip's words (optional unless CMD starts with
// '-'); "help", "-h", "-help" or "--help" before it ask for the usage; any other word starting
// with '-' before CMD is a usage error (room for options later); no CMD is a usage error.
netd::Result<Plan> parse_exec(std::span<const std::string_view> args, const GlobalOptions& options);

}  // namespace sliceip
