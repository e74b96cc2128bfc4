// `sliceip route ...`: words → io.netd.Routes requests. Pure: no I/O, no policy (netd decides).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "lib/core/result.h"
#include "tools/sliceip/options.h"
#include "tools/sliceip/plan.h"

namespace sliceip {

// Each takes the command word as typed (for messages: "unknown argument 'x' for 'route del'")
// and the words after it.

// add | replace | del | delete  →  io.netd.Routes.Add / Delete
netd::Result<Plan> parse_route_change(std::string_view command,
                                      std::span<const std::string_view> args,
                                      const GlobalOptions& options);
// show | list [PREFIX]  →  io.netd.Routes.List
netd::Result<Plan> parse_route_show(std::string_view command,
                                    std::span<const std::string_view> args,
                                    const GlobalOptions& options);
// flush  →  io.netd.Routes.Flush
netd::Result<Plan> parse_route_flush(std::string_view command,
                                     std::span<const std::string_view> args,
                                     const GlobalOptions& options);
// get ADDR  →  io.netd.Routes.Get
netd::Result<Plan> parse_route_get(std::string_view command, std::span<const std::string_view> args,
                                   const GlobalOptions& options);

// Words of ip-route(8) that could put a route (or a lookup) anywhere but the slice's own table.
bool is_refused_route_word(std::string_view word);

// "'table' is not allowed: routes always go to slice alice's table"; an empty slice name
// (netd could not say) reads "your slice's table".
std::string refused_word_message(std::string_view word, std::string_view slice_name);

}  // namespace sliceip
