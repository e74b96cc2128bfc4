#include "tools/sliceip/fleet_cmd.h"

#include <cerrno>
#include <ctime>

#include "lib/fleet/fleet_status.h"

namespace sliceip {

netd::Result<Plan> parse_fleet_status(std::string_view command, std::span<const std::string_view> args,
                                      const GlobalOptions&) {
  if (!args.empty())
    return netd::make_error(EINVAL, "unknown argument '" + std::string(args.front()) + "' for 'fleet " +
                                        std::string(command) + "'");
  return Plan::call("io.netd.Admin.FleetStatus", nlohmann::json::object(), print_fleet_status);
}

netd::Result<std::string> print_fleet_status(const nlohmann::json&, const nlohmann::json& reply,
                                             const GlobalOptions& options) {
  if (!reply.contains("prefix") || !reply["prefix"].is_string() || !reply.contains("nodes") ||
      !reply["nodes"].is_array())
    return netd::make_error(EPROTO, "netd's reply has no 'prefix' and 'nodes'");
  netd::fleet::KeyMap keys;
  for (const auto& n : reply["nodes"])
    if (n.is_object() && n.contains("key") && n["key"].is_string() && n.contains("value") && n["value"].is_string())
      keys.emplace(n["key"].get<std::string>(), n["value"].get<std::string>());
  const auto rows = netd::fleet::status_rows(keys, reply["prefix"].get<std::string>());
  if (options.json) return netd::fleet::format_status_json(rows, options.pretty);
  return netd::fleet::format_status_table(rows, static_cast<int64_t>(std::time(nullptr)));
}

}  // namespace sliceip
