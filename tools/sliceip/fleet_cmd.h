// `sliceip -a fleet status`: the fleet's node registry, as the netd it talks to last saw it
// (io.netd.Admin.FleetStatus; admins only: netd decides). Pure.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "lib/core/result.h"
#include "tools/sliceip/options.h"
#include "tools/sliceip/plan.h"

namespace sliceip {

netd::Result<Plan> parse_fleet_status(std::string_view command, std::span<const std::string_view> args,
                                      const GlobalOptions& options);
// NODE REVISION APPLIED UP PID VERSION HEALTH (netd::fleet::format_status_table), or -j.
netd::Result<std::string> print_fleet_status(const nlohmann::json& request, const nlohmann::json& reply,
                                             const GlobalOptions& options);

}  // namespace sliceip
