// io.netd.Slices: what a slice is and may do (policy), with its usage (kernel).
#pragma once

#include <nlohmann/json.hpp>

#include "netd/policy/policy.h"

namespace netd::ops {

// The Slice object of io.netd.Slices (routes = routes now in its table).
nlohmann::json slice_json(const policy::Policy& p, const policy::SliceSpec& s, size_t routes);

}  // namespace netd::ops
