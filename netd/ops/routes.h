// io.netd.Routes: per-slice routes in the slice table, and the slice's fwmark rule, which
// exists exactly while the slice has routes of that family.
#pragma once

#include <nlohmann/json.hpp>

#include "lib/core/result.h"
#include "netd/kernel/netlink/link_cache.h"
#include "netd/kernel/netlink/routes.h"
#include "netd/policy/policy.h"
#include "netd/policy/route_decision.h"
#include "netd/server/peer.h"

namespace netd::ops {

class RouteOps {
 public:
  RouteOps(kernel::RouteExecutor& routes, kernel::LinkCache& links) : routes_(routes), links_(links) {}

  Result<nlohmann::json> add(const policy::Policy& p, const policy::SliceSpec& s, const nlohmann::json& params);
  Result<nlohmann::json> remove(const policy::Policy& p, const policy::SliceSpec& s, const nlohmann::json& params);
  Result<nlohmann::json> list(const policy::Policy& p, const policy::SliceSpec& s, const nlohmann::json& params);
  Result<nlohmann::json> flush(const policy::Policy& p, const policy::SliceSpec& s, const nlohmann::json& params);
  Result<nlohmann::json> get(const policy::Policy& p, const policy::SliceSpec& s, const server::Peer& peer,
                             const nlohmann::json& params);

  // Routes now in the slice table (both families).
  Result<size_t> count(const policy::Policy& p, const policy::SliceSpec& s);

  // Brings rules and tables in line with the policy: a rule per slice and family that has
  // routes, none otherwise; tables of slices no longer in the policy are flushed. Run at
  // start (adoption after a restart) and after a reload.
  Status reconcile(const policy::Policy& p);
  // Removes every route and rule netd made under this policy's ranges (--teardown).
  Status teardown(const policy::Policy& p);

 private:
  kernel::FwmarkRule rule_for(const policy::Policy& p, const policy::SliceSpec& s, int family) const;
  Status ensure_rule(const policy::Policy& p, const policy::SliceSpec& s, int family);
  Status drop_rule_if_unused(const policy::Policy& p, const policy::SliceSpec& s, int family);
  policy::DeviceFacts device_facts(const std::string& name);
  nlohmann::json to_json(const kernel::RouteSpec& route);

  kernel::RouteExecutor& routes_;
  kernel::LinkCache& links_;
};

}  // namespace netd::ops
