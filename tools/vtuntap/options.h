// Global options of vtuntap: the words before COMMAND.
#pragma once

#include <span>
#include <string_view>

#include "lib/core/result.h"
#include "tools/common/options.h"

namespace vtuntap {

using netd::cli::GlobalOptions;
using netd::cli::ParsedOptions;

// Only the spellings in the SYNOPSIS: -j --json -p --pretty -h --help -s PATH --socket PATH
// (and --socket=PATH).
netd::Result<ParsedOptions> parse_global_options(std::span<const std::string_view> words);

// True for a spelling of a global option: a command that meets one among its own arguments
// can say where it belongs instead of just "unknown option".
bool is_global_option(std::string_view word);

}  // namespace vtuntap
