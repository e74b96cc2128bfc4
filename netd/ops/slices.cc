#include "netd/ops/slices.h"

namespace netd::ops {

nlohmann::json slice_json(const policy::Policy& p, const policy::SliceSpec& s, size_t routes) {
  auto prefixes = [](const std::vector<Prefix>& list) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& x : list) out.push_back(x.to_string());
    return out;
  };
  nlohmann::json ports = nlohmann::json::array();
  for (const auto& r : s.bind_ports)
    ports.push_back(r.first == r.last ? std::to_string(r.first)
                                      : std::to_string(r.first) + "-" + std::to_string(r.last));
  nlohmann::json j = {
      {"name", s.name},
      {"id", s.id},
      {"mark", p.mark_of(s)},
      {"mark_mask", p.netd.mark_mask},
      {"table", p.table_of(s)},
      {"uids", s.uids},
      {"gids", s.gids},
      {"netblock", prefixes(s.netblock)},
      {"route_devices", s.route_devices},
      {"route_prefixes", prefixes(s.route_prefixes)},
      {"max_routes", s.max_routes},
      {"routes", routes},
      {"max_vifs", s.max_vifs},
      {"raw", s.raw},
      {"capture_all", s.capture_all},
      {"packet_send_devices", s.packet_send_devices},
      {"bind_ports", ports},
      {"max_sockbuf", s.max_sockbuf},
      {"max_priority", s.max_priority},
  };
  if (s.rate_bps != 0) j["rate"] = format_rate_bps(s.rate_bps);
  if (s.ceil_bps != 0) j["ceil"] = format_rate_bps(s.ceil_bps);
  return j;
}

}  // namespace netd::ops
