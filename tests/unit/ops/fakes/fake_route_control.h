// FakeRouteControl: routing tables and fwmark rules in memory, behaving as the kernel does where
// RouteOps relies on it: an add without replace of a route already there (table, dst, metric)
// is EEXIST and with replace swaps it; a remove that matches nothing is ESRCH; an IPv6 route
// given no metric is stored with 1024; lists filter by table (0: all) and family (AF_UNSPEC:
// both); a duplicate rule is EEXIST, removing a missing one ENOENT. Lookups walk the rules as
// the kernel does (rule_walk.h), then the main table, longest prefix first.
#pragma once

#include <functional>
#include <vector>

#include "netd/kernel/netlink/route_control.h"
#include "tests/unit/ops/fakes/failure_plan.h"

namespace netd::testing {

class FakeRouteControl : public kernel::RouteControl {
 public:
  enum class Op { kAdd, kRemove, kList, kLookup, kAddRule, kRemoveRule, kListRules };

  // The next call of `op` (or the one after `after` successful ones) fails with `code`.
  void fail_next(Op op, int code, int after = 0) { failures_.fail_next(op, code, after); }
  int calls(Op op) const { return failures_.calls(op); }

  // The kernel's state, for tests to read and to change behind RouteOps's back (a device
  // going down takes its routes with it; an admin adds a rule by hand).
  std::vector<kernel::RouteSpec>& routes() { return routes_; }
  std::vector<kernel::RoutingRule>& rules() { return rules_; }
  std::vector<kernel::RouteSpec> routes_in(uint32_t table) const;
  // Drops every route for which `gone` is true, as the kernel does silently.
  void drop_routes_where(const std::function<bool(const kernel::RouteSpec&)>& gone);

  Status add(const kernel::RouteSpec& route, bool replace) override;
  Status remove(const kernel::RouteSpec& route) override;
  Result<std::vector<kernel::RouteSpec>> list(uint32_t table, int family) override;
  Result<kernel::RouteLookup> lookup(const IpAddress& dst, uint32_t mark, uint32_t uid) override;
  Status add_rule(const kernel::RoutingRule& rule) override;
  Status remove_rule(const kernel::RoutingRule& rule) override;
  Result<std::vector<kernel::RoutingRule>> list_rules(int family, uint32_t first, uint32_t last) override;

  static constexpr uint32_t kMainTable = 254;

 private:
  std::vector<kernel::RouteSpec> routes_;
  std::vector<kernel::RoutingRule> rules_;
  FailurePlan<Op> failures_;
};

}  // namespace netd::testing
