// Global options of sliceip: the words before OBJECT, as ip(8) takes them.
#pragma once

#include <span>
#include <string_view>

#include "lib/core/result.h"
#include "tools/common/options.h"

namespace sliceip {

using netd::cli::GlobalOptions;
using netd::cli::ParsedOptions;

// Only the spellings in the SYNOPSIS: -j -json -p -pretty -4 -6 -a --all -h -help --help
// --socket PATH (and --socket=PATH).
netd::Result<ParsedOptions> parse_global_options(std::span<const std::string_view> words);

// "inet" / "inet6" for the -4 / -6 family, as io.netd.Routes names families.
std::string_view family_name(int family);

}  // namespace sliceip
