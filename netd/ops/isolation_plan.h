// What the isolation maps and tables should hold for a policy, its vifs and the host's devices:
// a pure function, so every entry can be unit-tested; ops::Isolation hands the plan to the
// kernel executors (nft table, vif guard, flow recorder, sysctls).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "lib/core/net_types.h"
#include "netd/kernel/nft/netd_nft_table.h"
#include "netd/ops/isolation_sink.h"
#include "netd/policy/policy.h"

namespace netd::ops {

// One device of the netns as the link cache knows it.
struct HostDevice {
  int ifindex = 0;
  std::string name;
  std::vector<IpAddress> addresses;
};

struct IsolationPlan {
  kernel::NftWanted nft;
  std::map<int, uint32_t> ifindex_marks;         // vif ifindex → owner's mark (vif guard)
  std::map<IpAddress, uint32_t> address_marks;   // vif address → owner's mark (vif guard)
  std::set<int> capture_ifindexes;               // the uplinks that exist (capture filter)
  // Some slice may hold raw or packet sockets: the flow recorder's egress program records its
  // members' flows (their filters read them) and checks raw packets' ports (FlowRecorder::
  // record_egress; attached from then on).
  bool record_flows = false;
  // Devices that forward: the snat vifs, and the uplinks when there is one (replies to a snat
  // vif's traffic come in on them).
  std::vector<std::string> snat_vifs;
  std::vector<std::string> snat_uplinks;
};

// What a plan needs to know of the running system beyond the policy.
struct PlanContext {
  // The raw send fence exists now, so it stays whatever the policy grants (the sockets it
  // fences may still be out).
  bool fence_in_place = false;
  // netd runs inside the policy's cgroup: the raw sockets it makes are the cgroup's, so the
  // flow recorder learns their flows and their filters need no restored conntrack mark.
  bool netd_in_cgroup = false;
};

// Vifs of slices `p` no longer has are left out (reconcile deletes them). Devices named like
// vifs count as vifs even when netd has no record of them: their addresses are nobody's.
IsolationPlan plan_isolation(const policy::Policy& p, const std::vector<GuardedVif>& vifs,
                             const std::vector<HostDevice>& host, const PlanContext& context = {});

// Every port of every slice's bind_ports → that slice's mark, for the reservation programs
// (validation keeps each port in one slice).
std::map<uint32_t, uint32_t> reserved_ports(const policy::Policy& p);

// Kernel ids → marks for the tagging program.
std::map<uint32_t, uint32_t> uid_marks(const policy::Policy& p);
std::map<uint32_t, uint32_t> gid_marks(const policy::Policy& p);

}  // namespace netd::ops
