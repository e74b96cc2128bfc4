// Output of sliceip: ip-route-like text, or with -j the same keys as JSON (compact; -p pretty).
// Pure: replies in, strings out. Every string ends in a newline unless it is empty.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "lib/core/result.h"
#include "tools/common/errors.h"
#include "tools/sliceip/options.h"

namespace sliceip {

// Printers (see Printer in plan.h). `reply` is the parameters object of netd's answer.
netd::Result<std::string> print_nothing(const nlohmann::json& request, const nlohmann::json& reply,
                                        const GlobalOptions& options);
netd::Result<std::string> print_route_list(const nlohmann::json& request,
                                           const nlohmann::json& reply,
                                           const GlobalOptions& options);
netd::Result<std::string> print_route_get(const nlohmann::json& request,
                                          const nlohmann::json& reply,
                                          const GlobalOptions& options);
netd::Result<std::string> print_flush(const nlohmann::json& request, const nlohmann::json& reply,
                                      const GlobalOptions& options);
netd::Result<std::string> print_slice(const nlohmann::json& request, const nlohmann::json& reply,
                                      const GlobalOptions& options);
netd::Result<std::string> print_slice_list(const nlohmann::json& request,
                                           const nlohmann::json& reply,
                                           const GlobalOptions& options);

// One io.netd.Routes.Route as ip prints it: "198.51.100.0/24 via 192.0.2.1 dev uplink1",
// "blackhole 203.0.113.0/24", "default via ...". No newline. Fields of the wrong type are skipped.
std::string route_text(const nlohmann::json& route);
// The same route as ip -j prints it: keys in ip's order, "type" only when not unicast.
nlohmann::ordered_json route_json(const nlohmann::json& route);

// How an error reply from netd ends sliceip: "sliceip: refused: REASON" and the like, and
// ip's exit status (see tools/common/errors.h).
using netd::cli::ErrorReport;
ErrorReport describe_error(std::string_view error_name, const nlohmann::json& parameters);

}  // namespace sliceip
