// io.netd.Routes parameters ⇄ RouteRequest, strictly: unknown fields, wrong types and
// unparsable values are refused with a reason naming the field.
#pragma once

#include <nlohmann/json.hpp>

#include "lib/core/result.h"
#include "netd/policy/route_decision.h"

namespace netd::ops {

// A Route object ({"dst":..,"gateway":..,...}). For deletes, `dst` is the only required field.
Result<policy::RouteRequest> parse_route(const nlohmann::json& route);
// "inet" → AF_INET, "inet6" → AF_INET6, absent → AF_UNSPEC.
Result<int> parse_family(const nlohmann::json& params);

}  // namespace netd::ops
