#include "netd/ops/routes.h"

#include <linux/rtnetlink.h>

#include <algorithm>
#include <unordered_set>

#include "lib/core/errors.h"
#include "netd/ops/route_request.h"
#include "netd/ops/teardown_report.h"

namespace netd::ops {

namespace {

uint8_t kernel_type(policy::RouteType type) {
  switch (type) {
    case policy::RouteType::kBlackhole: return RTN_BLACKHOLE;
    case policy::RouteType::kUnreachable: return RTN_UNREACHABLE;
    case policy::RouteType::kProhibit: return RTN_PROHIBIT;
    case policy::RouteType::kUnicast: break;
  }
  return RTN_UNICAST;
}

const char* type_name(uint8_t type) {
  switch (type) {
    case RTN_BLACKHOLE: return "blackhole";
    case RTN_UNREACHABLE: return "unreachable";
    case RTN_PROHIBIT: return "prohibit";
    case RTN_LOCAL: return "local";
    case RTN_BROADCAST: return "broadcast";
    case RTN_MULTICAST: return "multicast";
    default: return "unicast";
  }
}

std::string table_of_text(const policy::SliceSpec& s) { return "slice " + s.name + "'s table"; }

// A deletion that found nothing to delete (ESRCH for routes, ENOENT for rules) did its job.
Status unless_gone(Status st) {
  if (!st.ok() && (st.error().code == ESRCH || st.error().code == ENOENT)) return ok_status();
  return st;
}

}  // namespace

policy::DeviceFacts RouteOps::device_facts(const std::string& name) {
  policy::DeviceFacts facts;
  int ifindex = links_.ifindex(name);
  if (ifindex == 0) return facts;
  facts.exists = true;
  for (const auto& a : links_.addresses(ifindex)) {
    facts.addresses.push_back(a.local);
    facts.on_link.push_back(a.on_link);
  }
  return facts;
}

nlohmann::json RouteOps::to_json(const kernel::RouteSpec& r) {
  nlohmann::json j = {{"dst", r.dst.to_string()}};
  if (r.type != RTN_UNICAST) j["type"] = type_name(r.type);
  if (!r.gateway.empty()) j["gateway"] = r.gateway.to_string();
  if (r.ifindex != 0) j["dev"] = links_.name(r.ifindex);
  if (!r.src.empty()) j["src"] = r.src.to_string();
  if (r.metric) j["metric"] = *r.metric;
  if (r.mtu) j["mtu"] = *r.mtu;
  return j;
}

Result<RuleTree*> RouteOps::tree(const policy::Policy& p, int family) {
  std::optional<RuleTree>& tree = family == AF_INET6 ? tree_v6_ : tree_v4_;
  if (!tree) {
    auto layout = RuleLayout::of(p.netd.rule_priority, p.netd.mark_mask, p.netd.table_base);
    if (!layout)
      return invalid("rule_priority " + std::to_string(p.netd.rule_priority) +
                     " leaves no room for netd's rules before main's at 32766");
    tree.emplace(*layout, family);
  }
  return &*tree;
}

Status RouteOps::ensure_rule(const policy::Policy& p, const policy::SliceSpec& s, int family, bool recheck) {
  NETD_ASSIGN_OR_RETURN(RuleTree * t, tree(p, family));
  const bool inserted = !t->contains(s.id);
  const std::vector<kernel::RoutingRule> rules = inserted ? t->insert(s.id) : recheck ? t->path(s.id)
                                                                                      : std::vector<kernel::RoutingRule>{};
  std::vector<kernel::RoutingRule> made;
  for (const auto& rule : rules) {
    auto added = routes_.add_rule(rule);
    if (added.ok()) {
      made.push_back(rule);
      continue;
    }
    if (added.error().code == EEXIST) continue;
    // Undone the way it was made, root first: no rule of a half-made path stays.
    if (inserted) t->erase(s.id);
    TeardownReport undo;
    for (auto it = made.rbegin(); it != made.rend(); ++it)
      undo.note(kernel::describe_rule(*it), unless_gone(routes_.remove_rule(*it)));
    return with_undo(kernel_error(std::move(added).error()), undo.as_status("the rules made before"),
                     "slice " + s.name + "'s rules");
  }
  return ok_status();
}

Status RouteOps::drop_rule(const policy::Policy& p, const policy::SliceSpec& s, int family) {
  NETD_ASSIGN_OR_RETURN(RuleTree * t, tree(p, family));
  // Every rule is tried; one that stays is named (the next reconcile removes it: it matches
  // only this slice's mark, or skips only rules no packet could match).
  TeardownReport report;
  // A slice the tree does not know (no reconcile yet) loses its lookup rule, which serves
  // only it; the nodes it may share wait for the reconcile, which knows every slice.
  const std::vector<kernel::RoutingRule> rules =
      t->contains(s.id) ? t->erase(s.id) : std::vector{t->layout().lookup(family, s.id)};
  for (const auto& rule : rules) report.note(kernel::describe_rule(rule), unless_gone(routes_.remove_rule(rule)));
  return report.as_status("removing slice " + s.name + "'s rules");
}

TeardownReport RouteOps::remove_rules_except(const RuleLayout& layout, const std::vector<kernel::RoutingRule>& keep,
                                            const std::vector<kernel::RoutingRule>& present) {
  std::unordered_set<std::string> kept;
  for (const auto& rule : keep) kept.insert(kernel::describe_rule(rule));
  // In the kernel's order, the entry rule first: the rest go from behind a rule that no longer
  // sends anybody there.
  TeardownReport report;
  for (const auto& rule : present)
    if (layout.is_netds(rule) && !kept.count(kernel::describe_rule(rule)))
      report.note(kernel::describe_rule(rule), unless_gone(routes_.remove_rule(rule)));
  return report;
}

Result<RouteOps::Usage> RouteOps::recount(const policy::Policy& p, const policy::SliceSpec& s) {
  NETD_ASSIGN_OR_RETURN(auto routes, routes_.list(p.table_of(s), AF_UNSPEC));
  Usage u;
  for (const auto& r : routes) ++u.of(r.family());
  usage_[s.id] = u;
  return u;
}

Result<nlohmann::json> RouteOps::add(const policy::Policy& p, const policy::SliceSpec& s,
                                     const api::routes::AddIn& in) {
  NETD_ASSIGN_OR_RETURN(policy::RouteRequest request, parse_route(in.route));
  bool replace = in.replace.value_or(false);

  // Facts for the pure decision: the devices the slice may use (and the one it named), and
  // how many routes its table holds. The link cache is current: the server applies link
  // notifications before the requests of each event batch.
  policy::RouteFacts facts;
  for (const auto& dev : s.route_devices) facts.devices[dev] = device_facts(dev);
  // The slice's own vifs are always its route devices, without being listed in the policy.
  if (vifs_ != nullptr) {
    for (const auto& vif : vifs_->names_of(s)) {
      facts.devices[vif] = device_facts(vif);
      facts.devices[vif].own_vif = true;
    }
  }
  if (!request.dev.empty() && !facts.devices.count(request.dev))
    facts.devices[request.dev] = device_facts(request.dev);
  auto cached = usage_.find(s.id);
  const bool was_counted = cached != usage_.end();
  Usage usage = was_counted ? cached->second : Usage{};
  if (!was_counted || usage.total() >= s.max_routes) {
    // At the limit by the (upper-bound) count: ask the kernel before refusing.
    NETD_ASSIGN_OR_RETURN(auto existing, routes_.list(p.table_of(s), AF_UNSPEC));
    usage = Usage{};
    for (const auto& r : existing) {
      ++usage.of(r.family());
      // The kernel stores IPv6 routes given no metric with metric 1024.
      auto metric_of = [](int family, std::optional<uint32_t> m) { return m.value_or(family == AF_INET6 ? 1024 : 0); };
      if (r.family() == request.dst.family() && r.dst == request.dst &&
          metric_of(r.family(), r.metric) == metric_of(r.family(), request.metric))
        facts.replaces_existing = true;
    }
    usage_[s.id] = usage;
  }
  facts.routes_in_table = usage.total();

  NETD_ASSIGN_OR_RETURN(policy::RouteVerdict verdict, policy::decide_route_add(p, s, request, facts, replace));

  kernel::RouteSpec spec;
  spec.type = kernel_type(request.type);
  spec.dst = request.dst;
  spec.gateway = request.gateway;
  spec.src = request.src;
  spec.metric = request.metric;
  spec.mtu = request.mtu;
  spec.table = p.table_of(s);
  if (!verdict.dev.empty()) spec.ifindex = links_.ifindex(verdict.dev);
  if (auto added = routes_.add(spec, replace); !added.ok()) return kernel_error(std::move(added).error());
  const int family = request.dst.family();
  // The first route of this family needs the rule that sends the slice's packets to its
  // table; so may routes counted from no count at all (after a failure below: one may have
  // been left without its rule). Rolled back on failure: no route without its rule.
  if (usage.of(family) == 0 || !was_counted) {
    if (auto rule = ensure_rule(p, s, family, !was_counted); !rule.ok()) {
      // If the undo fails the route stays, uncounted and without its rule: forget the count,
      // so the next request of the slice re-reads the table and makes the rule.
      usage_.erase(s.id);
      return with_undo(std::move(rule).error(), unless_gone(routes_.remove(spec)),
                       "route " + kernel::describe_route(spec) + " in " + table_of_text(s));
    }
  }
  // A replace may have replaced rather than added: counting it anyway only overestimates.
  ++usage_[s.id].of(family);
  return nlohmann::json::object();
}

Result<nlohmann::json> RouteOps::remove(const policy::Policy& p, const policy::SliceSpec& s,
                                        const api::routes::DeleteIn& in) {
  NETD_ASSIGN_OR_RETURN(policy::RouteRequest request, parse_route(in.route));
  kernel::RouteSpec spec;
  // As `ip route del`: the type matches only when given (0 = any).
  spec.type = in.route.type ? kernel_type(request.type) : 0;
  spec.dst = request.dst;
  spec.gateway = request.gateway;
  spec.metric = request.metric;
  spec.table = p.table_of(s);
  if (!request.dev.empty()) {
    spec.ifindex = links_.ifindex(request.dev);
    if (spec.ifindex == 0)
      return not_found("device '" + request.dev + "' does not exist", ENODEV);
  }
  auto removed = routes_.remove(spec);
  if (!removed.ok()) {
    if (removed.error().code == ESRCH || removed.error().code == ENOENT)
      return not_found("no route " + kernel::describe_route(spec) + " in " + table_of_text(s), ESRCH);
    return kernel_error(std::move(removed).error());
  }
  // The last route of the family takes the rule with it. With no count (nothing counted the
  // table yet, or a failure forgot it) what is left is read from the kernel.
  const int family = request.dst.family();
  uint32_t left = 0;
  if (auto cached = usage_.find(s.id); cached != usage_.end()) {
    uint32_t& count = cached->second.of(family);
    if (count > 0) --count;
    left = count;
  } else {
    NETD_ASSIGN_OR_RETURN(Usage now, recount(p, s));
    left = now.of(family);
  }
  if (left == 0) NETD_TRY(drop_rule(p, s, family));
  return nlohmann::json::object();
}

Result<nlohmann::json> RouteOps::list(const policy::Policy& p, const policy::SliceSpec& s,
                                      const api::routes::ListIn& in) {
  NETD_ASSIGN_OR_RETURN(int family, parse_family(in.family));
  // As `ip route show PREFIX`: the route for exactly that prefix.
  std::optional<Prefix> exact;
  if (in.prefix) {
    auto prefix = Prefix::parse(*in.prefix);
    if (!prefix.ok()) return invalid("prefix: " + prefix.error().message);
    exact = *prefix;
  }
  NETD_ASSIGN_OR_RETURN(auto routes, routes_.list(p.table_of(s), family));
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : routes)
    if (!exact || *exact == r.dst) out.push_back(to_json(r));
  return nlohmann::json{{"routes", out}};
}

Result<nlohmann::json> RouteOps::flush(const policy::Policy& p, const policy::SliceSpec& s,
                                       const api::routes::FlushIn& in) {
  NETD_ASSIGN_OR_RETURN(int family, parse_family(in.family));
  NETD_ASSIGN_OR_RETURN(auto routes, routes_.list(p.table_of(s), family));
  int deleted = 0;
  for (const auto& r : routes) {
    if (auto removed = routes_.remove(r); removed.ok()) ++deleted;
    else if (removed.error().code != ESRCH) return kernel_error(std::move(removed).error());
  }
  NETD_ASSIGN_OR_RETURN(Usage left, recount(p, s));
  for (int f : {AF_INET, AF_INET6})
    if ((family == AF_UNSPEC || family == f) && left.of(f) == 0) NETD_TRY(drop_rule(p, s, f));
  return nlohmann::json{{"deleted", deleted}};
}

Result<nlohmann::json> RouteOps::get(const policy::Policy& p, const policy::SliceSpec& s, uid_t uid,
                                     const api::routes::GetIn& in) {
  auto address = IpAddress::parse(in.address);
  if (!address.ok()) return invalid("address: " + address.error().message);
  // The slice's packets carry its mark: the kernel answers as it would route them.
  auto found = routes_.lookup(*address, p.mark_of(s), uid);
  if (!found.ok()) return kernel_error(std::move(found).error());
  return nlohmann::json{{"route", to_json(found->route)}, {"table", found->table}};
}

Result<size_t> RouteOps::count(const policy::Policy& p, const policy::SliceSpec& s) {
  NETD_ASSIGN_OR_RETURN(Usage u, recount(p, s));
  return u.total();
}

Status RouteOps::reconcile(const policy::Policy& p, const policy::Policy* previous, const policy::SliceDiff* diff) {
  if (previous != nullptr && adopted_) {
    if (diff != nullptr) return apply_change(p, *diff);
    return apply_change(p, policy::diff_slices(*previous, p));
  }
  std::unordered_map<uint32_t, const policy::SliceSpec*> before;
  if (previous != nullptr)
    for (const auto& s : previous->slices) before[s.id] = &s;
  for (const auto& s : p.slices) {
    auto it = before.find(s.id);
    if (it == before.end() || it->second->name == s.name) continue;
    NETD_TRY(empty_table(p, s.id).as_status("emptying " + table_of_text(s) + " for its new slice"));
  }
  usage_.clear();
  for (const auto& s : p.slices) NETD_TRY(recount(p, s));
  // Every stale rule or route that stays is named; the rest of the reconcile still runs.
  TeardownReport stale;
  for (int family : {AF_INET, AF_INET6}) {
    NETD_ASSIGN_OR_RETURN(RuleTree * t, tree(p, family));
    t->clear();
    for (const auto& s : p.slices)
      if (usage_[s.id].of(family) > 0) t->insert(s.id);
    const std::vector<kernel::RoutingRule> wanted = t->wanted();
    NETD_ASSIGN_OR_RETURN(auto present, routes_.list_rules(family, t->layout().first(), t->layout().end()));
    std::unordered_set<std::string> there;
    for (const auto& rule : present) there.insert(kernel::describe_rule(rule));
    // Missing rules first, in their safe order, then the stale ones: a slice that keeps its
    // routes never loses its way to its table meanwhile (rules of an older layout included).
    for (const auto& rule : wanted)
      if (!there.count(kernel::describe_rule(rule))) {
        auto added = routes_.add_rule(rule);
        if (!added.ok() && added.error().code != EEXIST) return kernel_error(std::move(added).error());
      }
    stale.merge(remove_rules_except(t->layout(), wanted, present));
  }
  // Tables of slices no longer in the policy lose their routes.
  std::unordered_set<uint32_t> tables;
  for (const auto& s : p.slices) tables.insert(p.table_of(s));
  stale.merge(remove_routes_where(p, AF_UNSPEC, [&tables](uint32_t t) { return !tables.count(t); }));
  adopted_ = stale.clean();
  return stale.as_status("removing stale rules and routes");
}

// A reload after netd's state was adopted: its record says what the kernel holds, so only the
// slices that come, go or change hands are looked at (issue: O(change), not O(slices)). A slice
// whose other fields changed keeps its routes (a lower max_routes refuses new ones only).
Status RouteOps::apply_change(const policy::Policy& p, const policy::SliceDiff& diff) {
  TeardownReport stale;
  auto arrive = [&](const policy::SliceSpec& s) -> Status {
    // A new id: its table should be empty (a slice leaving takes its routes), but count it.
    NETD_ASSIGN_OR_RETURN(Usage u, recount(p, s));
    for (int family : {AF_INET, AF_INET6})
      if (u.of(family) > 0) NETD_TRY(ensure_rule(p, s, family, true));
    return ok_status();
  };
  for (const policy::SliceSpec* s : diff.added) NETD_TRY(arrive(*s));
  for (const auto& c : diff.changed) {
    if (c.next->name == c.previous->name) continue;  // its routes and rules stand as they are
    // The id given to another slice: the new one inherits nothing.
    NETD_TRY(forget_slice(p, c.next->id).as_status("emptying " + table_of_text(*c.next) + " for its new slice"));
    NETD_TRY(arrive(*c.next));
  }
  // Slices gone from the policy take their routes and rules with them. What stays is no longer
  // in netd's record: the next reconcile reads the kernel again to find it.
  for (const policy::SliceSpec* gone : diff.removed) stale.merge(forget_slice(p, gone->id));
  if (!stale.clean()) adopted_ = false;
  return stale.as_status("removing the routes and rules of slices gone");
}

TeardownReport RouteOps::empty_table(const policy::Policy& p, uint32_t id) {
  TeardownReport report;
  const uint32_t table = p.netd.table_base + id;
  auto routes = routes_.list(table, AF_UNSPEC);
  if (!routes.ok()) {
    report.note("routes of table " + std::to_string(table), Status(std::move(routes).error()));
    return report;
  }
  for (const auto& r : *routes)
    report.note("route " + kernel::describe_route(r) + " in table " + std::to_string(table),
                unless_gone(routes_.remove(r)));
  return report;
}

TeardownReport RouteOps::forget_slice(const policy::Policy& p, uint32_t id) {
  TeardownReport report = empty_table(p, id);
  for (int family : {AF_INET, AF_INET6}) {
    auto t = tree(p, family);
    if (!t.ok()) continue;  // no layout, no rules
    for (const auto& rule : (*t)->erase(id))
      report.note(kernel::describe_rule(rule), unless_gone(routes_.remove_rule(rule)));
  }
  usage_.erase(id);
  return report;
}

TeardownReport RouteOps::teardown(const policy::Policy& p) {
  TeardownReport report;
  for (int family : {AF_INET, AF_INET6}) {
    auto t = tree(p, family);
    if (!t.ok()) {
      report.note("the rules at priority " + std::to_string(p.netd.rule_priority), Status(std::move(t).error()));
      continue;
    }
    (*t)->clear();
    const RuleLayout& layout = (*t)->layout();
    auto rules = routes_.list_rules(family, layout.first(), layout.end());
    if (!rules.ok()) {
      report.note(std::string(family == AF_INET6 ? "inet6 " : "") + "rules at priorities " +
                      std::to_string(layout.first()) + "-" + std::to_string(layout.end()),
                  Status(std::move(rules).error()));
      continue;
    }
    report.merge(remove_rules_except(layout, {}, *rules));
  }
  report.merge(remove_routes_where(p, AF_UNSPEC, [](uint32_t) { return true; }));
  return report;
}

TeardownReport RouteOps::remove_routes_where(const policy::Policy& p, int family,
                                             const std::function<bool(uint32_t table)>& doomed) {
  const uint32_t first_table = p.netd.table_base + 1;
  const uint32_t last_table = p.netd.table_base + p.max_slice_id();
  TeardownReport report;
  auto all = routes_.list(0, family);
  if (!all.ok()) {
    report.note("routes of tables " + std::to_string(first_table) + "-" + std::to_string(last_table),
                Status(std::move(all).error()));
    return report;
  }
  for (const auto& r : *all)
    if (r.table >= first_table && r.table <= last_table && doomed(r.table))
      report.note("route " + kernel::describe_route(r) + " in table " + std::to_string(r.table),
                  unless_gone(routes_.remove(r)));
  return report;
}

}  // namespace netd::ops
