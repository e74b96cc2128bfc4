// Route and rule executor over rtnetlink (libnl-route). Thin: no policy, no bookkeeping.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/core/net_types.h"
#include "lib/core/result.h"
#include "netd/kernel/netlink/nl_socket.h"

namespace netd::kernel {

struct RouteSpec {
  uint8_t type = 1;  // RTN_UNICAST, RTN_BLACKHOLE, RTN_UNREACHABLE, RTN_PROHIBIT; 0 = any (deletes)
  Prefix dst;
  IpAddress gateway;  // empty: none
  int ifindex = 0;    // 0: none
  IpAddress src;      // preferred source; empty: none
  std::optional<uint32_t> metric;
  std::optional<uint32_t> mtu;
  uint32_t table = 0;

  int family() const { return dst.family(); }
};

// A fwmark rule: `fwmark MARK/MASK lookup TABLE` at PRIORITY.
struct FwmarkRule {
  int family = 0;
  uint32_t priority = 0;
  uint32_t mark = 0;
  uint32_t mask = 0;
  uint32_t table = 0;
};

// Result of a route lookup (RTM_GETROUTE) as the kernel would route a packet.
struct RouteLookup {
  RouteSpec route;  // dst is the looked-up host prefix
  uint32_t table = 0;
};

class RouteExecutor {
 public:
  explicit RouteExecutor(NlSocket& sock) : sock_(sock) {}

  Status add(const RouteSpec& route, bool replace);
  // Deletes the first route of route.table matching the fields given (as `ip route del`).
  Status remove(const RouteSpec& route);
  // Every route in table (one family, or AF_UNSPEC for both), filtered by the kernel.
  Result<std::vector<RouteSpec>> list(uint32_t table, int family);
  Result<RouteLookup> lookup(const IpAddress& dst, uint32_t mark, uint32_t uid);

  Status add_rule(const FwmarkRule& rule);
  Status remove_rule(const FwmarkRule& rule);
  // Rules of a family (AF_INET / AF_INET6) with a fwmark and the given priority.
  Result<std::vector<FwmarkRule>> list_rules(int family, uint32_t priority);

 private:
  NlSocket& sock_;
};

std::string describe_route(const RouteSpec& route);  // "198.51.100.0/24 via 192.0.2.1" for messages
std::string describe_rule(const FwmarkRule& rule);    // "rule fwmark 0x70000/0xff0000 lookup 10007"

}  // namespace netd::kernel
