// `sliceip slice ...`: words → io.netd.Slices requests. Pure.
#pragma once

#include <span>
#include <string_view>

#include "lib/core/result.h"
#include "tools/sliceip/options.h"
#include "tools/sliceip/plan.h"

namespace sliceip {

// show | list: the caller's own slice (io.netd.Slices.Show); with -a every slice
// (io.netd.Slices.List, admins only: netd decides).
netd::Result<Plan> parse_slice_show(std::string_view command,
                                    std::span<const std::string_view> args,
                                    const GlobalOptions& options);

}  // namespace sliceip
