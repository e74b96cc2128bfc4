#include "netd/policy/route_decision.h"

#include <algorithm>

#include "lib/core/errors.h"

namespace netd::policy {

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out.empty() ? "none" : out;
}

std::string join(const std::vector<Prefix>& items) {
  std::vector<std::string> text;
  for (const auto& p : items) text.push_back(p.to_string());
  return join(text);
}

bool on_link(const DeviceFacts& dev, const IpAddress& gateway) {
  // IPv6 next hops are usually link-local; they are on-link on whatever device is named.
  if (gateway.family() == AF_INET6 && gateway.is_link_local()) return true;
  return std::any_of(dev.on_link.begin(), dev.on_link.end(),
                     [&](const Prefix& p) { return p.contains(gateway); });
}

bool has_address(const DeviceFacts& dev, const IpAddress& a) {
  return std::any_of(dev.addresses.begin(), dev.addresses.end(),
                     [&](const Prefix& p) { return p.address() == a; });
}

}  // namespace

const char* route_type_name(RouteType type) {
  switch (type) {
    case RouteType::kUnicast: return "unicast";
    case RouteType::kBlackhole: return "blackhole";
    case RouteType::kUnreachable: return "unreachable";
    case RouteType::kProhibit: return "prohibit";
  }
  return "unicast";
}

bool may_use_device(const SliceSpec& slice, const std::string& dev, const DeviceFacts& facts) {
  return facts.own_vif ||
         std::find(slice.route_devices.begin(), slice.route_devices.end(), dev) != slice.route_devices.end();
}

Result<RouteVerdict> decide_route_add(const Policy& policy, const SliceSpec& slice, const RouteRequest& request,
                                      const RouteFacts& facts, bool replace) {
  (void)policy;
  const Prefix& dst = request.dst;
  const bool unicast = request.type == RouteType::kUnicast;

  if (!unicast && (!request.gateway.empty() || !request.dev.empty() || !request.src.empty()))
    return invalid(std::string(route_type_name(request.type)) + " routes take no gateway, device or source");
  if (unicast && request.gateway.empty() && request.dev.empty())
    return invalid("a route to " + dst.to_string() + " needs 'via GATEWAY' or 'dev DEVICE'");
  if (!request.gateway.empty() && request.gateway.family() != dst.family())
    return invalid("gateway " + request.gateway.to_string() + " is not of the same family as " + dst.to_string());
  if (!request.src.empty() && request.src.family() != dst.family())
    return invalid("src " + request.src.to_string() + " is not of the same family as " + dst.to_string());
  if (request.mtu) {
    uint32_t min_mtu = dst.family() == AF_INET6 ? 1280 : 68;
    if (*request.mtu < min_mtu || *request.mtu > 65535)
      return invalid("mtu " + std::to_string(*request.mtu) + " is outside " + std::to_string(min_mtu) + "..65535");
  }

  // Destination: inside one of the slice's route_prefixes.
  bool prefix_allowed = std::any_of(slice.route_prefixes.begin(), slice.route_prefixes.end(),
                                    [&](const Prefix& p) { return p.contains(dst); });
  if (!prefix_allowed)
    return refused(dst.to_string() + " is outside slice " + slice.name + "'s route prefixes (" +
                   join(slice.route_prefixes) + ")");

  RouteVerdict verdict;
  if (unicast) {
    if (!request.dev.empty()) {
      auto it = facts.devices.find(request.dev);
      DeviceFacts none;
      const DeviceFacts& dev = it == facts.devices.end() ? none : it->second;
      if (!may_use_device(slice, request.dev, dev))
        return refused("device '" + request.dev + "' is not one of slice " + slice.name +
                       "'s route devices (" + join(slice.route_devices) + ") or its vifs");
      if (!dev.exists)
        return not_found("device '" + request.dev + "' does not exist", ENODEV);
      if (!request.gateway.empty() && !on_link(dev, request.gateway))
        return refused("gateway " + request.gateway.to_string() + " is not on-link on " + request.dev +
                       " (its prefixes: " + join(dev.on_link) + ")");
      verdict.dev = request.dev;
    } else {
      // `via GW` alone: the device is the usable one on whose link GW lies.
      for (const auto& [name, dev] : facts.devices) {
        if (dev.exists && may_use_device(slice, name, dev) && on_link(dev, request.gateway) &&
            !request.gateway.is_link_local()) {
          verdict.dev = name;
          break;
        }
      }
      if (verdict.dev.empty())
        return refused("gateway " + request.gateway.to_string() + " is not on-link on any device slice " +
                       slice.name + " may use (" + join(slice.route_devices) + " and its vifs)");
    }
    if (!request.src.empty() && !has_address(facts.devices.at(verdict.dev), request.src))
      return refused("src " + request.src.to_string() + " is not an address of " + verdict.dev);
  }

  // Quota: a replace of an existing route does not add one.
  bool adds_one = !(replace && facts.replaces_existing);
  if (adds_one && facts.routes_in_table >= slice.max_routes)
    return exhausted("slice " + slice.name + " has " + std::to_string(facts.routes_in_table) +
                         " routes, its limit (max_routes = " + std::to_string(slice.max_routes) + ")",
                     EDQUOT);
  return verdict;
}

}  // namespace netd::policy
