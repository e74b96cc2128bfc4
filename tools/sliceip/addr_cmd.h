// `sliceip address ...`: words → io.netd.Vifs address requests. Pure: no I/O, no policy
// (netd checks that VIF is the slice's and the address lies in its netblock).
#pragma once

#include <span>
#include <string_view>

#include "lib/core/result.h"
#include "tools/sliceip/options.h"
#include "tools/sliceip/plan.h"

namespace sliceip {

// add ADDR/LEN [peer ADDR] dev VIF  →  io.netd.Vifs.AddAddress
// del | delete ADDR/LEN dev VIF      →  io.netd.Vifs.DeleteAddress
netd::Result<Plan> parse_addr_change(std::string_view command,
                                     std::span<const std::string_view> args,
                                     const GlobalOptions& options);

// show | list [[dev] VIF]  →  io.netd.Vifs.List, printed as `ip address show`.
netd::Result<Plan> parse_addr_show(std::string_view command, std::span<const std::string_view> args,
                                   const GlobalOptions& options);

}  // namespace sliceip
