// io.netd.Routes parameters (shape already checked against the IDL) → RouteRequest: the values
// parsed, unparsable ones refused with a reason naming the field.
#pragma once

#include <optional>
#include <string>

#include "lib/core/result.h"
#include "lib/varlink/api/routes.h"
#include "netd/policy/route_decision.h"

namespace netd::ops {

// A Route object. For deletes, `dst` is the only field that must be there (the IDL says so).
Result<policy::RouteRequest> parse_route(const api::routes::Route& route);
// "inet" → AF_INET, "inet6" → AF_INET6, absent → AF_UNSPEC.
Result<int> parse_family(const std::optional<std::string>& family);

}  // namespace netd::ops
