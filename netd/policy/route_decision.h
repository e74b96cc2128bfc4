// Pure decisions for route requests: (slice, request, facts about devices, usage) → verdict.
// No syscalls: the operation layer gathers the facts, this decides, the executor acts.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lib/core/net_types.h"
#include "lib/core/result.h"
#include "netd/policy/policy.h"

namespace netd::policy {

enum class RouteType : uint8_t { kUnicast, kBlackhole, kUnreachable, kProhibit };

const char* route_type_name(RouteType type);

// A route as the slice asked for it (already syntactically valid).
struct RouteRequest {
  RouteType type = RouteType::kUnicast;
  Prefix dst;
  IpAddress gateway;  // empty: none
  std::string dev;    // empty: none
  IpAddress src;      // empty: none
  std::optional<uint32_t> metric;
  std::optional<uint32_t> mtu;
};

// What the kernel says about a device the slice named or may use.
struct DeviceFacts {
  bool exists = false;
  bool own_vif = false;             // one of the slice's own vifs
  std::vector<Prefix> addresses;    // local addresses with their lengths
  std::vector<Prefix> on_link;      // prefixes reachable directly on the device
};

struct RouteFacts {
  // The slice's usable devices (route_devices and its vifs) plus the requested one, by name.
  std::map<std::string, DeviceFacts> devices;
  uint32_t routes_in_table = 0;       // routes now in the slice table (both families)
  bool replaces_existing = false;     // replace of a route that exists (count stays the same)
};

struct RouteVerdict {
  std::string dev;  // the device the route will use (resolved from the gateway when not given)
};

// Allowed → the resolved device; refused → Error with kind and a reason naming what and why.
Result<RouteVerdict> decide_route_add(const Policy& policy, const SliceSpec& slice, const RouteRequest& request,
                                      const RouteFacts& facts, bool replace);

// Devices the slice may route through: its route_devices (own vifs are added by the caller).
bool may_use_device(const SliceSpec& slice, const std::string& dev, const DeviceFacts& facts);

}  // namespace netd::policy
