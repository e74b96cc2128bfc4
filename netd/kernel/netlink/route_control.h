// RouteControl: what ops may do to the netns's routing tables and fwmark rules. RouteExecutor
// is the kernel's (rtnetlink); unit tests of ops give an in-memory one that behaves as the
// kernel does where ops relies on it (EEXIST, ESRCH/ENOENT, filtering by table and family).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/core/net_types.h"
#include "lib/core/result.h"

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

// A routing policy rule of the shapes netd makes, at PRIORITY:
//   `[fwmark MARK/MASK] lookup TABLE`, `[fwmark MARK/MASK] goto TARGET`, `nop`.
// mask 0: no fwmark selector (the rule matches every packet).
struct RoutingRule {
  enum class Action : uint8_t { kLookup, kGoto, kNop };
  int family = 0;
  uint32_t priority = 0;
  Action action = Action::kLookup;
  uint32_t mark = 0;
  uint32_t mask = 0;
  uint32_t table = 0;   // kLookup
  uint32_t target = 0;  // kGoto: the priority it jumps to
  // Listed rules only: the rule has a selector or flag netd never sets (iif, oif, from, to,
  // uid range, ip proto, ports, tos, not, suppress_*, l3mdev) or another action. Such a rule
  // is someone else's; it equals no rule netd wants.
  bool foreign = false;
  friend bool operator==(const RoutingRule&, const RoutingRule&) = default;
};

// Result of a route lookup (RTM_GETROUTE) as the kernel would route a packet.
struct RouteLookup {
  RouteSpec route;  // dst is the looked-up host prefix
  uint32_t table = 0;
};

class RouteControl {
 public:
  virtual ~RouteControl() = default;

  // Without `replace`, a route already there (same table, dst, metric) is EEXIST.
  virtual Status add(const RouteSpec& route, bool replace) = 0;
  // Deletes the first route of route.table matching the fields given (as `ip route del`);
  // none matching is ESRCH.
  virtual Status remove(const RouteSpec& route) = 0;
  // Every route in table (0: every table; one family, or AF_UNSPEC for both).
  virtual Result<std::vector<RouteSpec>> list(uint32_t table, int family) = 0;
  virtual Result<RouteLookup> lookup(const IpAddress& dst, uint32_t mark, uint32_t uid) = 0;

  // An identical rule already there is EEXIST; removing one that is not is ENOENT.
  virtual Status add_rule(const RoutingRule& rule) = 0;
  virtual Status remove_rule(const RoutingRule& rule) = 0;
  // Rules of a family (AF_INET / AF_INET6) at priorities first..last, in the kernel's order.
  virtual Result<std::vector<RoutingRule>> list_rules(int family, uint32_t first, uint32_t last) = 0;
};

std::string describe_route(const RouteSpec& route);  // "198.51.100.0/24 via 192.0.2.1" for messages
// As `ip rule` prints it: "rule 1003: fwmark 0x70000/0xfff0000 lookup 10007",
// "inet6 rule 1000: fwmark 0x0/0xfff0000 goto 13290", "rule 13290: nop".
std::string describe_rule(const RoutingRule& rule);

}  // namespace netd::kernel
