#include "netd/ops/isolation_plan.h"

#include <algorithm>
#include <string_view>
#include <unordered_set>

#include "netd/policy/raw_decision.h"
#include "netd/policy/vif_decision.h"

namespace netd::ops {

IsolationPlan plan_isolation(const policy::Policy& p, const std::vector<GuardedVif>& vifs,
                             const std::vector<HostDevice>& host, const PlanContext& context) {
  IsolationPlan plan;
  kernel::NftWanted& wanted = plan.nft;
  for (const auto& s : p.slices) wanted.slices[s.id] = p.mark_of(s);
  wanted.uplinks = p.netd.uplinks;
  // The raw send fence (an output rule and an egress chain on every device, which every packet
  // of the host crosses) only once some slice may hold flagged sockets: raw or packet ones, or a
  // monitor's capture. From then on it stays: a socket handed out stays out after a reload
  // takes the right away, and so does one an earlier netd handed out.
  const bool flagged = std::any_of(p.slices.begin(), p.slices.end(),
                                   [](const policy::SliceSpec& s) { return !s.raw.empty() || s.capture_all; });
  wanted.raw_flag = flagged || context.fence_in_place ? p.netd.raw_flag : 0;
  plan.record_flows = std::any_of(p.slices.begin(), p.slices.end(), [](const policy::SliceSpec& s) { return !s.raw.empty(); });
  // The raw send fence's view of the host: every device (their egress is hooked) and the
  // addresses of the devices that are no vifs (any slice's raw sockets may send from those, as
  // its ordinary sockets may).
  std::set<IpAddress> host_addresses;
  // Names listed so far: a vif is looked up among thousands of devices (most of them vifs).
  std::unordered_set<std::string_view> listed;
  listed.reserve(host.size() + vifs.size());
  wanted.devices.reserve(host.size() + vifs.size());
  for (const auto& d : host) {
    wanted.devices.push_back(d.name);
    listed.insert(d.name);
    if (policy::parse_vif_name(d.name)) continue;
    host_addresses.insert(d.addresses.begin(), d.addresses.end());
  }
  wanted.host_addresses.assign(host_addresses.begin(), host_addresses.end());
  for (const auto& s : p.slices) {
    if (!s.packet_send_devices.empty()) wanted.packet_send_devices[s.id] = s.packet_send_devices;
    if (s.capture_all) wanted.flowlog_groups[s.id] = static_cast<uint16_t>(policy::flowlog_group_of(p, s));
  }
  for (const auto& vif : vifs) {
    const policy::SliceSpec* owner = p.find_by_id(vif.slice_id);
    if (owner == nullptr) continue;  // reconcile deletes such devices
    wanted.vifs.push_back(kernel::NftVif{vif.name, vif.slice_id, owner->snat, vif.addresses});
    // Hooked by name before the device is up (or even exists): no window without the fence.
    if (listed.insert(vif.name).second) wanted.devices.push_back(vif.name);
    if (vif.ifindex != 0) plan.ifindex_marks[vif.ifindex] = p.mark_of(*owner);
    for (const auto& a : vif.addresses) plan.address_marks[a] = p.mark_of(*owner);
    if (owner->snat) plan.snat_vifs.push_back(vif.name);
  }
  for (const auto& name : p.netd.uplinks) {
    auto d = std::find_if(host.begin(), host.end(), [&](const HostDevice& h) { return h.name == name; });
    if (d != host.end() && d->ifindex > 0) plan.capture_ifindexes.insert(d->ifindex);
  }
  if (!plan.snat_vifs.empty()) plan.snat_uplinks = p.netd.uplinks;
  // Conntrack only while something needs it (issue 18: tracking every flow of the netns costs
  // every packet of every user): a vif's snat (NAT, and its replies forwarded back as its
  // owner's), a monitor's flow log (arriving packets named by the mark restored from the ct
  // mark), or a slice that may hold raw IP sockets while netd runs outside the policy's cgroup:
  // the flow recorder then never sees the raw sockets netd makes, and their filters keep replies
  // by the restored mark instead (inside, the recorded flows do it). Other local flows of slices
  // need no restored mark: the local table delivers them.
  const bool raw_ip = std::any_of(p.slices.begin(), p.slices.end(), [](const policy::SliceSpec& s) {
    return std::any_of(s.raw.begin(), s.raw.end(), [](const std::string& kind) { return kind != "packet"; });
  });
  wanted.conntrack = !plan.snat_vifs.empty() || !wanted.flowlog_groups.empty() || (raw_ip && !context.netd_in_cgroup);
  return plan;
}

std::map<uint32_t, uint32_t> reserved_ports(const policy::Policy& p) {
  std::map<uint32_t, uint32_t> out;
  for (const auto& s : p.slices)
    for (const auto& range : s.bind_ports)
      for (uint32_t port = range.first; port <= range.last; ++port) out[port] = p.mark_of(s);
  return out;
}

std::map<uint32_t, uint32_t> uid_marks(const policy::Policy& p) {
  std::map<uint32_t, uint32_t> out;
  for (const auto& s : p.slices)
    for (uid_t uid : s.uids) out[uid] = p.mark_of(s);
  return out;
}

std::map<uint32_t, uint32_t> gid_marks(const policy::Policy& p) {
  std::map<uint32_t, uint32_t> out;
  for (const auto& s : p.slices)
    for (gid_t gid : s.gids) out[gid] = p.mark_of(s);
  return out;
}

}  // namespace netd::ops
