// `sliceip qdisc ...`: tc-like words → io.netd.Qdiscs requests. Pure: no I/O, no policy
// (netd checks that VIF is the slice's and that the values are sane).
#pragma once

#include <span>
#include <string_view>

#include "lib/core/result.h"
#include "tools/sliceip/options.h"
#include "tools/sliceip/plan.h"

namespace sliceip {

// replace dev VIF root tbf rate RATE burst SIZE ( latency TIME | limit SIZE )
// replace dev VIF root htb rate RATE                       →  io.netd.Qdiscs.Replace
netd::Result<Plan> parse_qdisc_replace(std::string_view command, std::span<const std::string_view> args,
                                       const GlobalOptions& options);

// del | delete dev VIF root  →  io.netd.Qdiscs.Delete
netd::Result<Plan> parse_qdisc_del(std::string_view command, std::span<const std::string_view> args,
                                   const GlobalOptions& options);

// show | list [ dev VIF ]  →  io.netd.Qdiscs.List, printed as `tc -s qdisc show`.
netd::Result<Plan> parse_qdisc_show(std::string_view command, std::span<const std::string_view> args,
                                    const GlobalOptions& options);

}  // namespace sliceip
