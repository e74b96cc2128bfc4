#include "tests/unit/ops/fakes/fake_route_control.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tests/fixtures/rule_walk.h"

namespace netd::testing {
namespace {

// The metric the kernel stores: IPv6 routes given none get 1024.
uint32_t stored_metric(const kernel::RouteSpec& r) {
  return r.metric.value_or(r.family() == AF_INET6 ? 1024 : 0);
}

// NLM_F_EXCL / NLM_F_REPLACE identity of a route: table, dst, metric (tos is never set).
bool same_key(const kernel::RouteSpec& a, const kernel::RouteSpec& b) {
  return a.table == b.table && a.dst == b.dst && stored_metric(a) == stored_metric(b);
}

// As `ip route del`: table and dst always, the rest only when the request names it.
bool matches_delete(const kernel::RouteSpec& request, const kernel::RouteSpec& r) {
  return r.table == request.table && r.dst == request.dst && (request.type == 0 || request.type == r.type) &&
         (request.gateway.empty() || request.gateway == r.gateway) &&
         (request.ifindex == 0 || request.ifindex == r.ifindex) &&
         (!request.metric || *request.metric == stored_metric(r));
}

Error kernel_said(int code, const std::string& what) { return make_error(code, what + ": " + std::strerror(code)); }

}  // namespace

std::vector<kernel::RouteSpec> FakeRouteControl::routes_in(uint32_t table) const {
  std::vector<kernel::RouteSpec> out;
  for (const auto& r : routes_)
    if (r.table == table) out.push_back(r);
  return out;
}

void FakeRouteControl::drop_routes_where(const std::function<bool(const kernel::RouteSpec&)>& gone) {
  std::erase_if(routes_, gone);
}

Status FakeRouteControl::add(const kernel::RouteSpec& route, bool replace) {
  const std::string what = (replace ? "replacing route " : "adding route ") + kernel::describe_route(route);
  if (auto e = failures_.take(Op::kAdd, what)) return *e;
  kernel::RouteSpec stored = route;
  if (route.family() == AF_INET6 && !route.metric) stored.metric = 1024;
  auto it = std::find_if(routes_.begin(), routes_.end(), [&](const auto& r) { return same_key(r, route); });
  if (it != routes_.end()) {
    if (!replace) return kernel_said(EEXIST, what);
    *it = stored;
    return ok_status();
  }
  routes_.push_back(stored);
  return ok_status();
}

Status FakeRouteControl::remove(const kernel::RouteSpec& route) {
  const std::string what = "deleting route " + kernel::describe_route(route);
  if (auto e = failures_.take(Op::kRemove, what)) return *e;
  auto it = std::find_if(routes_.begin(), routes_.end(), [&](const auto& r) { return matches_delete(route, r); });
  if (it == routes_.end()) return kernel_said(ESRCH, what);
  routes_.erase(it);
  return ok_status();
}

Result<std::vector<kernel::RouteSpec>> FakeRouteControl::list(uint32_t table, int family) {
  if (auto e = failures_.take(Op::kList, "listing table " + std::to_string(table))) return *e;
  std::vector<kernel::RouteSpec> out;
  for (const auto& r : routes_)
    if ((table == 0 || r.table == table) && (family == AF_UNSPEC || r.family() == family)) out.push_back(r);
  return out;
}

Result<kernel::RouteLookup> FakeRouteControl::lookup(const IpAddress& dst, uint32_t mark, uint32_t /*uid*/) {
  const std::string what = "looking up a route to " + dst.to_string();
  if (auto e = failures_.take(Op::kLookup, what)) return *e;
  auto best_in = [&](uint32_t table) {
    const kernel::RouteSpec* best = nullptr;
    for (const auto& r : routes_)
      if (r.table == table && r.dst.contains(dst) && (best == nullptr || r.dst.length() > best->dst.length()))
        best = &r;
    return best;
  };
  RuleWalk walk = walk_rules(rules_, dst.family(), mark, [&](uint32_t table) { return best_in(table) != nullptr; });
  const uint32_t table = walk.table.value_or(kMainTable);
  if (const kernel::RouteSpec* best = best_in(table)) {
    kernel::RouteSpec answer = *best;
    answer.dst = Prefix(dst, dst.bit_length());
    return kernel::RouteLookup{answer, table};
  }
  return kernel_said(ENETUNREACH, what);
}

Status FakeRouteControl::add_rule(const kernel::RoutingRule& rule) {
  const std::string what = "adding " + kernel::describe_rule(rule);
  if (auto e = failures_.take(Op::kAddRule, what)) return *e;
  if (std::find(rules_.begin(), rules_.end(), rule) != rules_.end())
    return kernel_said(EEXIST, what);
  rules_.push_back(rule);
  return ok_status();
}

Status FakeRouteControl::remove_rule(const kernel::RoutingRule& rule) {
  const std::string what = "deleting " + kernel::describe_rule(rule);
  if (auto e = failures_.take(Op::kRemoveRule, what)) return *e;
  auto it = std::find(rules_.begin(), rules_.end(), rule);
  if (it == rules_.end()) return kernel_said(ENOENT, what);
  rules_.erase(it);
  return ok_status();
}

Result<std::vector<kernel::RoutingRule>> FakeRouteControl::list_rules(int family, uint32_t first, uint32_t last) {
  if (auto e = failures_.take(Op::kListRules, "listing rules")) return *e;
  std::vector<kernel::RoutingRule> out;
  for (const auto& r : rules_)
    if (r.family == family && r.priority >= first && r.priority <= last) out.push_back(r);
  return out;
}

}  // namespace netd::testing
