// io.netd.Routes: per-slice routes in the slice table, and the slice's fwmark rules (its
// `lookup` leaf and its path in netd's rule tree, rule_tree.h), which exist exactly while the
// slice has routes of that family.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <unordered_map>

#include "lib/core/result.h"
#include "netd/kernel/netlink/link_view.h"
#include "netd/kernel/netlink/route_control.h"
#include "netd/ops/rule_tree.h"
#include "netd/ops/teardown_report.h"
#include "netd/policy/policy.h"
#include "netd/policy/route_decision.h"
#include "netd/policy/slice_diff.h"
#include "lib/varlink/api/routes.h"
#include "netd/ops/vif_directory.h"

namespace netd::ops {

class RouteOps {
 public:
  // `vifs`: the slices' own vifs, devices their routes may always use (none for --teardown).
  RouteOps(kernel::RouteControl& routes, kernel::LinkView& links, const VifDirectory* vifs = nullptr)
      : routes_(routes), links_(links), vifs_(vifs) {}

  Result<nlohmann::json> add(const policy::Policy& p, const policy::SliceSpec& s, const api::routes::AddIn& in);
  Result<nlohmann::json> remove(const policy::Policy& p, const policy::SliceSpec& s, const api::routes::DeleteIn& in);
  Result<nlohmann::json> list(const policy::Policy& p, const policy::SliceSpec& s, const api::routes::ListIn& in);
  Result<nlohmann::json> flush(const policy::Policy& p, const policy::SliceSpec& s, const api::routes::FlushIn& in);
  // uid: the caller's, part of the lookup as for its own packets (uid routing rules).
  Result<nlohmann::json> get(const policy::Policy& p, const policy::SliceSpec& s, uid_t uid,
                             const api::routes::GetIn& in);

  // Routes now in the slice table (both families).
  Result<size_t> count(const policy::Policy& p, const policy::SliceSpec& s);

  // Brings rules and tables in line with the policy: each slice with routes of a family in
  // that family's rule tree, no other rule of netd's shapes in its block; tables of slices no
  // longer in the policy are flushed. The first (and any without `previous`) reads every table
  // and the rule block; once that ran clean, one with `previous` (a reload) touches only the
  // slices added, removed or given another owner: O(change), trusting netd's own record. Run at
  // start (adoption after a restart) and after a reload. An id that `previous` gave to
  // another slice (name) starts from an empty table: a new slice inherits nothing.
  // `diff` (diff_slices(*previous, p), when the caller has it) saves working it out again.
  Status reconcile(const policy::Policy& p, const policy::Policy* previous = nullptr,
                   const policy::SliceDiff* diff = nullptr);
  // Removes every route and rule netd made under this policy's ranges (--teardown); names
  // each one that stays (one already gone is fine).
  TeardownReport teardown(const policy::Policy& p);

 private:
  // Routes per family in a slice table, kept in memory so a request needs no table dump.
  // Only netd changes slice tables, but the kernel may drop routes silently (a device going
  // down), so the count is an upper bound: it is re-read from the kernel whenever it would
  // refuse a request, and on reconcile. A slice without one (a failed rollback forgets it)
  // has its table re-read by its next request.
  struct Usage {
    uint32_t v4 = 0;
    uint32_t v6 = 0;
    uint32_t total() const { return v4 + v6; }
    uint32_t& of(int family) { return family == AF_INET6 ? v6 : v4; }
  };
  Result<Usage> recount(const policy::Policy& p, const policy::SliceSpec& s);

  // The rule tree of a family, made for this policy's [netd] on first use (a reload cannot
  // change rule_priority, mark_mask or table_base).
  Result<RuleTree*> tree(const policy::Policy& p, int family);
  // Puts the slice in the family's rule tree (its first route). `recheck`: it may be there
  // already with rules the kernel lost (a count forgotten after a failure): make its path again.
  Status ensure_rule(const policy::Policy& p, const policy::SliceSpec& s, int family, bool recheck);
  // Takes the slice out of the family's rule tree (its last route gone).
  Status drop_rule(const policy::Policy& p, const policy::SliceSpec& s, int family);
  // Removes the rules of netd's shapes among `present` (a listing of its block) but those in `keep`.
  TeardownReport remove_rules_except(const RuleLayout& layout, const std::vector<kernel::RoutingRule>& keep,
                                     const std::vector<kernel::RoutingRule>& present);
  // reconcile once netd's record is adopted: only the slices that come, go or change hands.
  Status apply_change(const policy::Policy& p, const policy::SliceDiff& diff);
  // Deletes every route of slice id's table; names each one that stays.
  TeardownReport empty_table(const policy::Policy& p, uint32_t id);
  // empty_table, and the slice's rules out of both trees, and its count.
  TeardownReport forget_slice(const policy::Policy& p, uint32_t id);
  // Deletes the routes (one family or both) of netd's slice tables whose table `doomed` picks,
  // and names each one that stays; a route already gone is fine.
  TeardownReport remove_routes_where(const policy::Policy& p, int family,
                                     const std::function<bool(uint32_t table)>& doomed);
  policy::DeviceFacts device_facts(const std::string& name);
  nlohmann::json to_json(const kernel::RouteSpec& route);

  kernel::RouteControl& routes_;
  kernel::LinkView& links_;
  std::unordered_map<uint32_t, Usage> usage_;  // by slice id
  std::optional<RuleTree> tree_v4_, tree_v6_;
  // A full reconcile ran clean: usage_ and the trees say what the kernel holds, and a reload
  // looks only at what changed. Cleared by nothing: a failed reload is undone by a full
  // reconcile (reconcile without `previous`), which sets it again.
  bool adopted_ = false;
  const VifDirectory* vifs_;
};

}  // namespace netd::ops
