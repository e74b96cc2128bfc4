// `sliceip shape ...`: words → io.netd.Shaping requests, and their printers. Pure.
#pragma once

#include <nlohmann/json.hpp>

#include <span>
#include <string>
#include <string_view>

#include "lib/core/result.h"
#include "tools/sliceip/options.h"
#include "tools/sliceip/plan.h"

namespace sliceip {

// show | list: the caller's slice's limits and its class on each uplink.
netd::Result<Plan> parse_shape_show(std::string_view command, std::span<const std::string_view> args,
                                    const GlobalOptions& options);
// set [ rate RATE ] [ ceil RATE ]: lower (or, with neither, restore) the slice's own limits.
// RATE takes tc's units ("10mbit", "1gbit", "800kbit").
netd::Result<Plan> parse_shape_set(std::string_view command, std::span<const std::string_view> args,
                                   const GlobalOptions& options);

netd::Result<std::string> print_shape(const nlohmann::json& request, const nlohmann::json& reply,
                                      const GlobalOptions& options);
// Nothing on success, as ip; with -j the limits now in force.
netd::Result<std::string> print_shape_set(const nlohmann::json& request, const nlohmann::json& reply,
                                          const GlobalOptions& options);

}  // namespace sliceip
