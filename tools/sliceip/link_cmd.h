// `sliceip link ...`: words → io.netd.Vifs link requests. Pure.
#pragma once

#include <span>
#include <string_view>

#include "lib/core/result.h"
#include "tools/sliceip/options.h"
#include "tools/sliceip/plan.h"

namespace sliceip {

// set [dev] VIF SETTING...  (up | down | mtu N | promisc on|off)  →  io.netd.Vifs.SetLink
netd::Result<Plan> parse_link_set(std::string_view command, std::span<const std::string_view> args,
                                  const GlobalOptions& options);

// show | list [[dev] VIF]  →  io.netd.Vifs.List, printed as `ip link show`.
netd::Result<Plan> parse_link_show(std::string_view command, std::span<const std::string_view> args,
                                   const GlobalOptions& options);

}  // namespace sliceip
