#include "netd/ops/isolation_plan.h"

#include <algorithm>
#include <string_view>
#include <unordered_set>

#include "netd/policy/raw_decision.h"
#include "netd/policy/vif_decision.h"

namespace netd::ops {

IsolationPlan plan_isolation(const policy::Policy& p, const std::vector<GuardedVif>& vifs,
                             const std::vector<HostDevice>& host) {
  IsolationPlan plan;
  kernel::NftWanted& wanted = plan.nft;
  for (const auto& s : p.slices) wanted.slices[s.id] = p.mark_of(s);
  wanted.uplinks = p.netd.uplinks;
  wanted.raw_flag = p.netd.raw_flag;
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
