#include "netd/ops/isolation.h"

#include <algorithm>

#include "netd/kernel/bpf/bpffs.h"
#include "netd/kernel/sysctl/sysctl.h"
#include "netd/ops/isolation_changes.h"
#include "netd/policy/slice_diff.h"
#include "netd/policy/raw_decision.h"
#include "netd/policy/vif_decision.h"

namespace netd::ops {

namespace {

// Kernel-made replies (TCP RST, ICMP errors, echo replies) take the mark of the packet they
// answer rather than 0, so those answering a packet that arrived on a vif carry the owner's
// mark and may leave through the vif (which drops unmarked packets).
Status enable_fwmark_reflect() {
  NETD_TRY(kernel::write_sysctl("net/ipv4/fwmark_reflect", "1"));
  return kernel::write_sysctl("net/ipv6/fwmark_reflect", "1");
}

// Forwarding for a snat vif's traffic: IPv4 decides by the input device's `forwarding`,
// IPv6 by the input device's `force_forwarding` (the global switch stays off). Replies come
// in on the uplinks, so they need it too. Forwarding between other devices stays what the
// host's own firewall makes of it; netd's forward chain drops everything else to or from a
// vif. ENOENT: the device is gone (or, for IPv6, the kernel is older than 6.17 and has no
// per-device switch: IPv4 snat still works).
Status enable_forwarding(const std::string& dev) {
  NETD_TRY(kernel::write_sysctl("net/ipv4/conf/" + dev + "/forwarding", "1"));
  Status v6 = kernel::write_sysctl("net/ipv6/conf/" + dev + "/force_forwarding", "1");
  if (!v6.ok() && v6.error().code != ENOENT) return v6;
  return ok_status();
}

}  // namespace

Status Isolation::apply(const policy::Policy& next, const policy::Policy* previous, const policy::SliceDiff* given) {
  // What the reload changes among the slices (matched by id; shared specs by pointer).
  std::optional<policy::SliceDiff> worked_out;
  if (previous != nullptr && given == nullptr) worked_out = policy::diff_slices(*previous, next);
  const policy::SliceDiff* diff = previous == nullptr ? nullptr : given != nullptr ? given : &*worked_out;
  // From the policy the maps hold, only the keys of the slices that changed are written (a
  // reload at thousands of slices would otherwise compare every key); else the maps whole.
  const bool from_maps = diff && maps_version_ == previous->slices.version() &&
                         maps_mark_mask_ == next.netd.mark_mask && tagger_ && ports_;
  std::optional<IsolationMapChanges> changes;
  if (from_maps) changes = isolation_map_changes(next, *diff);
  maps_version_.reset();  // unknown until both maps are written
  // Tagging first: from here on every member's new socket carries its mark.
  if (!tagger_) {
    NETD_TRY(kernel::ensure_sys_fs_bpf_mounted(next.netd.bpffs));
    NETD_ASSIGN_OR_RETURN(auto tagger, kernel::SliceTagger::open(
                                           {next.netd.bpffs, next.netd.cgroup, next.netd.mark_mask}));
    tagger_.emplace(std::move(tagger));
  }
  // A mirror that knows nothing (a check of the kernel made them forget) refuses an update
  // with ESTALE before writing: the maps are synced whole then.
  auto stale = [](const Status& st) { return !st.ok() && st.error().code == ESTALE; };
  Status tagged = changes ? tagger_->update(changes->uids, changes->gids) : Status(make_error(ESTALE, "whole"));
  if (stale(tagged)) tagged = tagger_->sync(uid_marks(next), gid_marks(next));
  NETD_TRY(std::move(tagged));
  // The slices' ports, by the marks just given: a member binds its own, nobody else does.
  if (!ports_) {
    NETD_ASSIGN_OR_RETURN(auto ports, kernel::PortReservations::open(
                                          {next.netd.bpffs, next.netd.cgroup, next.netd.mark_mask}));
    ports_.emplace(std::move(ports));
  }
  Status reserved = changes ? ports_->update(changes->ports) : Status(make_error(ESTALE, "whole"));
  if (stale(reserved)) reserved = ports_->sync(reserved_ports(next));
  NETD_TRY(std::move(reserved));
  maps_version_ = next.slices.version();
  maps_mark_mask_ = next.netd.mark_mask;
  if (!guard_) {
    NETD_TRY(enable_fwmark_reflect());
    NETD_ASSIGN_OR_RETURN(auto guard, kernel::VifGuard::open(
                                          {next.netd.bpffs, next.netd.cgroup, next.netd.mark_mask}));
    guard_.emplace(std::move(guard));
  }
  if (!recorder_) {
    NETD_ASSIGN_OR_RETURN(auto recorder, kernel::FlowRecorder::open({next.netd.bpffs, next.netd.cgroup,
                                                                      next.netd.mark_mask, next.netd.raw_flag}));
    recorder_.emplace(std::move(recorder));
    NETD_ASSIGN_OR_RETURN(auto maps, kernel::RawFilterMaps::open_pinned(next.netd.bpffs));
    NETD_ASSIGN_OR_RETURN(auto filters, kernel::RawFilters::create(std::move(maps), next.netd.mark_mask));
    filters_.emplace(std::move(filters));
  }
  if (!nft_) {
    NETD_ASSIGN_OR_RETURN(auto table, kernel::NetdNftTable::open(next.netd.mark_mask));
    nft_.emplace(std::move(table));
  }
  // A mark whose slice went away or was given to another slice: the sockets handed out with
  // it must not see the new owner's packets. A slice that lost a raw kind or capture_all: its
  // sockets must not keep what it may no longer have (those it still may, it asks for again).
  // Slices the diff does not name kept their name and rights.
  if (diff) {
    for (const policy::SliceSpec* old : diff->removed) NETD_TRY(filters_->revoke(previous->mark_of(*old)));
    for (const auto& c : diff->changed)
      if (c.next->name != c.previous->name || policy::raw_rights_cut(*c.previous, *c.next))
        NETD_TRY(filters_->revoke(previous->mark_of(*c.previous)));
  }
  return ok_status();
}

std::vector<HostDevice> Isolation::host_devices() {
  std::vector<HostDevice> out;
  for (const auto& link : links_.links()) {
    HostDevice d{link.ifindex, link.name, {}};
    for (const auto& a : links_.addresses(link.ifindex)) d.addresses.push_back(a.local.address());
    out.push_back(std::move(d));
  }
  return out;
}

Status Isolation::publish(const policy::Policy& p, const std::vector<GuardedVif>& vifs) {
  published_vifs_ = vifs;
  plan_.reset();  // set again once every executor took it
  const PlanContext context{nft_->has_raw_fence(), netd_in_cgroup_};
  IsolationPlan plan = plan_isolation(p, vifs, host_devices(), context);
  // nft first: it guards by name, so it holds even before the device has an index.
  NETD_TRY(nft_->sync(plan.nft));
  if (plan.record_flows) NETD_TRY(recorder_->record_egress());
  NETD_TRY(guard_->sync(plan.ifindex_marks, plan.address_marks));
  NETD_TRY(recorder_->sync_capture_ifaces(plan.capture_ifindexes));
  for (const auto& vif : plan.snat_vifs) {
    // ENOENT: the vif vanished (its last fd closed) and its removal, queued behind this
    // publication, drops it from the wanted set; nothing is left to forward for.
    if (Status st = enable_forwarding(vif); !st.ok() && st.error().code != ENOENT)
      return std::move(st).error().with_context("snat for " + vif);
  }
  for (const auto& uplink : plan.snat_uplinks) {
    // An uplink the policy names may not exist (yet); snat through it starts when it does.
    if (Status st = enable_forwarding(uplink); !st.ok() && st.error().code != ENOENT)
      return std::move(st).error().with_context("snat via " + uplink);
  }
  plan_ = std::move(plan);
  plan_context_ = context;
  return ok_status();
}

namespace {

// The fields of a slice the isolation plan reads (its id gives its mark); the tagging and port
// maps, which read its members and ports, are Isolation::apply's.
bool same_isolation(const policy::SliceSpec& a, const policy::SliceSpec& b) {
  return a.id == b.id && a.raw == b.raw && a.capture_all == b.capture_all &&
         a.packet_send_devices == b.packet_send_devices && a.snat == b.snat;
}

// The ids whose marks the reload adds or removes, when that is all it changes in the plan:
// none of them may hold raw or packet sockets, capture or send from devices, or own a vif, and
// a slice that stays must keep what the plan reads of it. Nullopt: the plan is made whole.
std::optional<std::vector<uint32_t>> marks_changed(const policy::SliceDiff& diff, const std::vector<GuardedVif>& vifs) {
  auto plain = [](const policy::SliceSpec* s) {
    return s->raw.empty() && !s->capture_all && s->packet_send_devices.empty();
  };
  std::vector<uint32_t> ids;
  for (const auto* list : {&diff.added, &diff.removed}) {
    for (const policy::SliceSpec* s : *list) {
      if (!plain(s)) return std::nullopt;
      ids.push_back(s->id);
    }
  }
  for (const auto& c : diff.changed)
    if (!same_isolation(*c.previous, *c.next)) return std::nullopt;
  std::sort(ids.begin(), ids.end());
  for (const auto& vif : vifs)
    if (std::binary_search(ids.begin(), ids.end(), vif.slice_id)) return std::nullopt;
  return ids;
}

}  // namespace

Status Isolation::publish_slices(const policy::Policy& p, const policy::SliceDiff& diff) {
  const PlanContext context{nft_->has_raw_fence(), netd_in_cgroup_};
  const bool same_context =
      context.fence_in_place == plan_context_.fence_in_place && context.netd_in_cgroup == plan_context_.netd_in_cgroup;
  std::optional<std::vector<uint32_t>> ids;
  if (plan_ && !diff.settings_changed && same_context) ids = marks_changed(diff, published_vifs_);
  if (!ids) return publish(p, published_vifs_);
  if (ids->empty()) return ok_status();  // nothing the plan holds changed (say a max_routes)
  // The plan's slice marks, patched: the vif guard, flow recorder and sysctls hold nothing of
  // these slices, so only the nft table changes.
  for (uint32_t id : *ids) {
    if (const policy::SliceSpec* s = p.find_by_id(id); s != nullptr)
      plan_->nft.slices[id] = p.mark_of(*s);
    else
      plan_->nft.slices.erase(id);
  }
  Status st = nft_->sync_slices_changed(plan_->nft, *ids);
  if (!st.ok()) plan_.reset();  // the next publication plans whole
  return st;
}

Status Isolation::on_link_event(const policy::Policy& p, const kernel::LinkEvent& e) {
  if (!e.name.empty() && policy::parse_vif_name(e.name) && e.kind != kernel::LinkEvent::Kind::kResync)
    return ok_status();
  if (nft_) nft_->devices_changed();
  return publish(p, published_vifs_);
}

TeardownReport Isolation::teardown(const policy::Policy& p, bool vifs_gone) {
  TeardownReport report;
  const std::string& bpffs = p.netd.bpffs;
  report.note("nft tables inet netd and netdev netd", kernel::NetdNftTable::teardown());
  report.note("vif guard links and pins under " + bpffs,
              vifs_gone ? kernel::VifGuard::teardown(bpffs)
                        : Status(make_error(EBUSY, "kept while a vif is left (see above)")));
  report.note("flow recorder links and pins under " + bpffs, kernel::FlowRecorder::teardown(bpffs));
  report.note("port reservation links and pins under " + bpffs, kernel::PortReservations::teardown(bpffs));
  report.note("slice tagging link and pins under " + bpffs, kernel::SliceTagger::teardown(bpffs));
  return report;
}

}  // namespace netd::ops
