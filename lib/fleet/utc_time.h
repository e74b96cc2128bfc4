// Times in the fleet's records (the node registry, the last good policy) as an admin reads them
// with etcdctl or cat: RFC 3339 in UTC, to the second ("2026-12-07T06:36:37Z").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lib/core/result.h"

namespace netd::fleet {

// Seconds since the epoch as "YYYY-MM-DDTHH:MM:SSZ".
std::string format_utc(int64_t unix_seconds);
// That form back (only that form: records are written by format_utc); EINVAL otherwise.
Result<int64_t> parse_utc(std::string_view text);
// A duration for a table column: "42s", "3m07s", "5h02m", "12d03h".
std::string format_age(int64_t seconds);

}  // namespace netd::fleet
