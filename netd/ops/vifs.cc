#include "netd/ops/vifs.h"

#include <algorithm>

#include "lib/core/errors.h"
#include "lib/varlink/schema.h"
#include "netd/ops/vif_request.h"

namespace netd::ops {
namespace {

nlohmann::json address_json(const Prefix& local, const IpAddress& peer) {
  nlohmann::json j = {{"address", local.to_string()}};
  if (!peer.empty()) j["peer"] = peer.to_string();
  return j;
}

bool same_address(const Prefix& a, const Prefix& b) { return a.address() == b.address(); }

std::string format_words(kernel::TunFormat format) {
  return std::string(format.packet_info ? "with" : "without") + " the packet information header and " +
         (format.vnet_hdr ? "with" : "without") + " a virtio-net header";
}

// Drops the most recent claim of `local` (one request's worth).
void unclaim(VifRecord& record, const Prefix& local) {
  auto& c = record.claimed;
  for (auto it = c.rbegin(); it != c.rend(); ++it) {
    if (same_address(it->local, local)) {
      c.erase(std::next(it).base());
      return;
    }
  }
}

}  // namespace

std::vector<IpAddress> VifOps::guarded_addresses(const VifRecord& record) {
  std::vector<IpAddress> addresses;
  for (const auto& c : record.claimed) addresses.push_back(c.local.address());
  if (record.ifindex != 0) {
    for (const auto& a : cache_.addresses(record.ifindex)) {
      // Link-local addresses repeat across devices (and the BPF key has no scope id);
      // delivery on the vif is guarded by its ifindex anyway.
      if (a.local.address().is_link_local()) continue;
      if (std::find(addresses.begin(), addresses.end(), a.local.address()) == addresses.end())
        addresses.push_back(a.local.address());
    }
  }
  return addresses;
}

Status VifOps::publish(const policy::Policy& p) {
  std::vector<GuardedVif> vifs;
  vifs.reserve(registry_.all().size());
  published_.clear();
  for (const auto& [name, record] : registry_.all()) {
    GuardedVif g{name, record.ifindex, record.slice_id, guarded_addresses(record)};
    published_.emplace(name, std::set<IpAddress>(g.addresses.begin(), g.addresses.end()));
    vifs.push_back(std::move(g));
  }
  Status st = isolation_.publish(p, vifs);
  // After a failure nothing is known to be published: the next event publishes again.
  if (!st.ok()) published_.clear();
  return st;
}

uint32_t VifOps::slice_of_address(const IpAddress& address) {
  for (const auto& [name, record] : registry_.all()) {
    for (const auto& c : record.claimed)
      if (c.local.address() == address) return record.slice_id;
    if (record.ifindex == 0) continue;
    for (const auto& a : cache_.addresses(record.ifindex))
      if (a.local.address() == address) return record.slice_id;
  }
  return 0;
}

bool VifOps::is_own_vif(const policy::SliceSpec& s, const std::string& name) { return ifindex_of(s, name) != 0; }

int VifOps::ifindex_of(const policy::SliceSpec& s, const std::string& name) {
  const VifRecord* r = registry_.find(name);
  return r != nullptr && r->slice_id == s.id ? r->ifindex : 0;
}

Result<VifRecord*> VifOps::own_record(const policy::SliceSpec& s, const std::string& requested) {
  NETD_ASSIGN_OR_RETURN(std::string name, parse_device_name(requested, "name"));
  NETD_TRY(policy::decide_vif_owner(s, name));
  VifRecord* record = registry_.find(name);
  if (record == nullptr || record->slice_id != s.id) return device_not_found(name);
  return record;
}

Result<kernel::LinkState> VifOps::tun_state(const VifRecord& record) {
  auto state = links_.state(record.ifindex, record.name);
  if (!state.ok()) return kernel_error(std::move(state).error());
  if (!state->tun) return kernel_error(make_error(EMEDIUMTYPE, record.name + " is not a tun/tap device"));
  return state;
}

Result<nlohmann::json> VifOps::describe(const VifRecord& record) {
  NETD_ASSIGN_OR_RETURN(kernel::LinkState state, tun_state(record));
  return describe(record, state);
}

nlohmann::json VifOps::describe(const VifRecord& record, const kernel::LinkState& state) {
  const kernel::TunInfo* info = &*state.tun;
  nlohmann::json addresses = nlohmann::json::array();
  std::vector<Prefix> seen;
  for (const auto& a : cache_.addresses(record.ifindex)) {
    addresses.push_back(address_json(a.local, a.peer));
    seen.push_back(a.local);
  }
  // Added by this run but not yet reported back by the kernel's notification.
  for (const auto& c : record.claimed) {
    if (std::none_of(seen.begin(), seen.end(), [&](const Prefix& p) { return same_address(p, c.local); }))
      addresses.push_back(address_json(c.local, c.peer));
  }
  nlohmann::json j = {{"name", record.name},
                      {"kind", policy::vif_kind_name(record.kind)},
                      {"ifindex", record.ifindex},
                      {"persist", info->persist},
                      {"multi_queue", info->multi_queue},
                      {"up", state.up},
                      {"mtu", state.mtu},
                      {"promisc", state.promisc},
                      {"owner", info->owner ? static_cast<int64_t>(*info->owner) : -1},
                      {"packet_info", info->packet_info},
                      {"vnet_hdr", info->vnet_hdr},
                      {"addresses", addresses}};
  return j;
}

Result<varlink::Answer> VifOps::add(const policy::Policy& p, const policy::SliceSpec& s, uid_t uid,
                                    const api::vifs::AddIn& in) {
  NETD_ASSIGN_OR_RETURN(VifAddParams req, parse_vif_add(in));
  NETD_ASSIGN_OR_RETURN(std::string name, policy::decide_vif_add(s, req.request, registry_.names_of(s.id)));

  kernel::TunCreate spec;
  spec.name = name;
  spec.tap = req.request.kind == policy::VifKind::kTap;
  spec.multi_queue = req.multi_queue;
  spec.format = req.format;
  spec.owner = uid;
  if (!s.gids.empty()) spec.group = s.gids.front();
  auto created = tun_.create(spec);
  if (!created.ok()) return kernel_error(std::move(created).error());
  UniqueFd fd = std::move(created).value();
  auto looked_up = links_.ifindex_of(name);
  if (!looked_up.ok()) return kernel_error(std::move(looked_up).error());
  const int ifindex = *looked_up;

  // The device is down and not persistent: until everything below succeeded, closing `fd`
  // removes it, so a failure leaves nothing behind. Isolation comes first, addresses and
  // "up" after it, so there is no moment the device carries traffic unguarded.
  registry_.put(VifRecord{name, s.id, req.request.kind, ifindex, req.request.addresses});
  auto undo = [&](Error e) -> Error {
    registry_.erase(name);
    fd.reset();
    return with_undo(std::move(e), publish(p), "the isolation entries of " + name);
  };
  if (Status st = publish(p); !st.ok()) return undo(std::move(st).error().with_context("isolating " + name));
  if (req.request.mtu) {
    kernel::LinkChange mtu;
    mtu.mtu = *req.request.mtu;
    if (Status st = links_.change(ifindex, name, mtu); !st.ok()) return undo(kernel_error(std::move(st).error()));
  }
  for (const auto& a : req.request.addresses) {
    if (Status st = links_.add_address(ifindex, name, a.local, a.peer); !st.ok())
      return undo(kernel_error(std::move(st).error()));
  }
  if (req.up) {
    kernel::LinkChange up;
    up.up = true;
    if (Status st = links_.change(ifindex, name, up); !st.ok()) return undo(kernel_error(std::move(st).error()));
  }
  if (req.persist) {
    if (Status st = tun_.set_persist(fd.get(), name, true); !st.ok())
      return undo(kernel_error(std::move(st).error()));
  }
  auto vif = describe(*registry_.find(name));
  if (!vif.ok()) {
    Error e = std::move(vif).error();
    // A persistent device outlives its fd: made transient again, or else deleted outright.
    if (req.persist && !tun_.set_persist(fd.get(), name, false).ok())
      e = with_undo(std::move(e), remove_device(*registry_.find(name)), "persistent device " + name);
    return undo(std::move(e));
  }
  varlink::Answer answer;
  answer.parameters = {{"vif", *vif}};
  answer.fds.push_back(std::move(fd));
  return answer;
}

Result<varlink::Answer> VifOps::attach(const policy::Policy&, const policy::SliceSpec& s,
                                       const api::vifs::AttachIn& in) {
  NETD_ASSIGN_OR_RETURN(VifRecord * record, own_record(s, in.name));
  auto info = links_.tun_info(record->ifindex, record->name);
  if (!info.ok()) return kernel_error(std::move(info).error());
  const kernel::TunFormat asked = parse_tun_format(in.packet_info, in.vnet_hdr);
  auto fd = tun_.attach(record->name, info->tap, info->multi_queue, asked);
  if (!fd.ok()) {
    Error e = kernel_error(std::move(fd).error());
    if (e.code == EBUSY) e.message = record->name + " is in use by another program (only a multi-queue device takes more fds)";
    return e;
  }
  // One read of the device after the attach, for the reply and the format it gave.
  NETD_ASSIGN_OR_RETURN(kernel::LinkState state, tun_state(*record));
  // A queue joining the others of a multi-queue device gets their format whatever it asked:
  // refused (its fd closed here).
  if (const kernel::TunFormat got{state.tun->packet_info, state.tun->vnet_hdr}; got != asked)
    return make_error(EINVAL, record->name + "'s other queues carry packets " + format_words(got) +
                                  ", and every queue of a device shares that (asked: " + format_words(asked) + ")");
  varlink::Answer answer;
  answer.parameters = {{"vif", describe(*record, state)}};
  answer.fds.push_back(std::move(fd).value());
  return answer;
}

Status VifOps::remove_device(const VifRecord& record) {
  Status st = links_.remove(record.ifindex, record.name);
  if (!st.ok() && st.error().code != ENODEV) return kernel_error(std::move(st).error());
  return ok_status();
}

Result<nlohmann::json> VifOps::remove(const policy::Policy& p, const policy::SliceSpec& s,
                                      const api::vifs::DeleteIn& in) {
  NETD_ASSIGN_OR_RETURN(VifRecord * record, own_record(s, in.name));
  NETD_TRY(remove_device(*record));
  registry_.erase(record->name);
  NETD_TRY(publish(p));
  return nlohmann::json::object();
}

Result<nlohmann::json> VifOps::list(const policy::Policy&, const policy::SliceSpec& s, const api::vifs::ListIn& in) {
  nlohmann::json vifs = nlohmann::json::array();
  if (in.name) {
    NETD_ASSIGN_OR_RETURN(VifRecord * record, own_record(s, *in.name));
    NETD_ASSIGN_OR_RETURN(nlohmann::json vif, describe(*record));
    vifs.push_back(vif);
  } else {
    for (const auto& name : registry_.names_of(s.id)) {
      auto vif = describe(*registry_.find(name));
      // Gone since the last notification: it is no longer the slice's.
      if (!vif.ok() && vif.error().code == ENODEV) continue;
      if (!vif.ok()) return std::move(vif).error();
      vifs.push_back(*vif);
    }
  }
  return nlohmann::json{{"vifs", vifs}};
}

Result<nlohmann::json> VifOps::add_address(const policy::Policy& p, const policy::SliceSpec& s,
                                           const api::vifs::AddAddressIn& in) {
  NETD_ASSIGN_OR_RETURN(VifRecord * record, own_record(s, in.name));
  NETD_ASSIGN_OR_RETURN(policy::VifAddressRequest address, parse_vif_address(in.address));
  NETD_TRY(policy::decide_vif_address(s, address));
  // Guarded before it exists: nobody else can bind it in between.
  record->claimed.push_back(address);
  const std::string name = record->name;
  auto unclaim_and_fail = [&](Error e) -> Error {
    if (VifRecord* r = registry_.find(name)) unclaim(*r, address.local);
    return with_undo(std::move(e), publish(p),
                     "the isolation entry of " + address.local.address().to_string() + " for " + name);
  };
  if (Status st = publish(p); !st.ok()) return unclaim_and_fail(std::move(st).error());
  if (Status st = links_.add_address(record->ifindex, name, address.local, address.peer); !st.ok())
    return unclaim_and_fail(kernel_error(std::move(st).error()));
  return nlohmann::json::object();
}

Result<nlohmann::json> VifOps::delete_address(const policy::Policy& p, const policy::SliceSpec& s,
                                              const api::vifs::DeleteAddressIn& in) {
  NETD_ASSIGN_OR_RETURN(VifRecord * record, own_record(s, in.name));
  auto local = Prefix::parse_interface(in.address);
  if (!local.ok()) return invalid("address: " + local.error().message);
  if (Status st = links_.remove_address(record->ifindex, record->name, *local); !st.ok()) {
    Error e = kernel_error(std::move(st).error());
    if (e.code == EADDRNOTAVAIL) {
      e.kind = ErrorKind::kNotFound;
      e.message = record->name + " has no address " + local->to_string();
    }
    return e;
  }
  while (std::any_of(record->claimed.begin(), record->claimed.end(),
                     [&](const policy::VifAddressRequest& a) { return same_address(a.local, *local); }))
    unclaim(*record, *local);
  NETD_TRY(publish(p));
  return nlohmann::json::object();
}

Result<nlohmann::json> VifOps::set_link(const policy::Policy&, const policy::SliceSpec& s,
                                        const api::vifs::SetLinkIn& in) {
  NETD_ASSIGN_OR_RETURN(VifRecord * record, own_record(s, in.name));
  kernel::LinkChange change;
  change.up = in.up;
  change.promisc = in.promisc;
  NETD_ASSIGN_OR_RETURN(change.mtu, varlink::to_u32("mtu", in.mtu));
  if (change.mtu) {
    // The kernel's own link-local address does not count: losing it with IPv6 on a device the
    // slice uses for IPv4 at a small mtu is what the slice asked for.
    std::vector<Prefix> addresses;
    for (const auto& a : cache_.addresses(record->ifindex))
      if (!a.local.address().is_link_local()) addresses.push_back(a.local);
    for (const auto& c : record->claimed) addresses.push_back(c.local);
    NETD_TRY(policy::decide_vif_mtu_change(record->kind, *change.mtu, addresses));
  }
  if (change.up || change.mtu || change.promisc) {
    if (Status st = links_.change(record->ifindex, record->name, change); !st.ok())
      return kernel_error(std::move(st).error());
  }
  NETD_ASSIGN_OR_RETURN(nlohmann::json vif, describe(*record));
  return nlohmann::json{{"vif", vif}};
}

Status VifOps::on_link_event(const policy::Policy& p, const kernel::LinkEvent& event) {
  using Kind = kernel::LinkEvent::Kind;
  switch (event.kind) {
    case Kind::kLinkRemoved: {
      VifRecord* r = registry_.find_ifindex(event.ifindex);
      if (r == nullptr) return ok_status();
      registry_.erase(r->name);
      return publish(p);
    }
    case Kind::kAddressChanged: {
      VifRecord* r = registry_.find_ifindex(event.ifindex);
      if (r == nullptr) return ok_status();
      // The kernel has now reported the address (the cache holds it) or its removal (by
      // anyone, or by the kernel, e.g. IPv6 addresses under an mtu below 1280): either way
      // netd's claim has served its purpose, and from here the cache is the truth.
      if (!event.address.address().empty()) unclaim(*r, event.address);
      // The report of an address netd added (and guarded when it claimed it) changes nothing
      // that is guarded: no publication, which would cost every slice's and vif's state.
      auto published = published_.find(r->name);
      if (published != published_.end()) {
        const std::vector<IpAddress> now = guarded_addresses(*r);
        if (published->second == std::set<IpAddress>(now.begin(), now.end())) return ok_status();
      }
      return publish(p);
    }
    case Kind::kResync: {
      adopted_ = false;  // events were lost: devices may have come too, the next reconcile looks
      std::vector<std::string> gone;
      for (const auto& [name, record] : registry_.all())
        if (cache_.name(record.ifindex) != name) gone.push_back(name);
      for (const auto& name : gone) registry_.erase(name);
      return publish(p);
    }
    case Kind::kLinkChanged:
    case Kind::kLinkAdded:
      return ok_status();
  }
  return ok_status();
}

Result<std::string> VifOps::on_tun_info(const policy::Policy& p, int ifindex, const kernel::TunInfo& info) {
  VifRecord* record = registry_.find_ifindex(ifindex);
  if (record == nullptr) return std::string();
  const policy::SliceSpec* owner = p.find_by_id(record->slice_id);
  if (owner == nullptr) return std::string();  // reconcile deletes it
  Status holder = policy::decide_tun_holder(*owner, info.owner, info.group);
  if (holder.ok()) return std::string();
  // Revoked: the device goes, with its isolation entries.
  const std::string name = record->name;
  NETD_TRY(remove_device(*record));
  registry_.erase(name);
  NETD_TRY(publish(p));
  return name + " was " + holder.error().message + ": deleted";
}

Status VifOps::reconcile(const policy::Policy& p, const policy::Policy* previous, const policy::SliceDiff* diff) {
  if (previous != nullptr && adopted_ && diff != nullptr && !diff->settings_changed) return apply_change(p, *diff);
  // What exists: the cache's devices, plus devices this run made whose notification the
  // cache has not applied yet.
  std::map<std::string, int> existing;
  for (const auto& link : cache_.links()) existing[link.name] = link.ifindex;
  for (const auto& [name, record] : registry_.all()) {
    if (auto cached = existing.find(name); cached != existing.end() && cached->second == record.ifindex) continue;
    auto now = links_.ifindex_of(name);
    if (now.ok() && *now == record.ifindex) existing[name] = record.ifindex;
  }

  Status first_error = ok_status();
  VifRegistry next;
  for (const auto& [name, ifindex] : existing) {
    auto parsed = policy::parse_vif_name(name);
    if (!parsed) continue;
    const policy::SliceSpec* owner = p.find_by_id(parsed->slice_id);
    const policy::SliceSpec* before = previous != nullptr ? previous->find_by_id(parsed->slice_id) : nullptr;
    // A slice that is gone, or an id now given to another slice: the device is not the
    // current owner's to inherit.
    bool orphaned = owner == nullptr || (before != nullptr && before->name != owner->name);
    VifRecord record{name, parsed->slice_id, parsed->kind, ifindex, {}};
    if (orphaned) {
      if (Status st = remove_device(record); !st.ok() && first_error.ok()) first_error = std::move(st);
      continue;
    }
    if (const VifRecord* known = registry_.find(name); known != nullptr && known->ifindex == ifindex)
      record.claimed = known->claimed;
    next.put(std::move(record));
  }
  registry_ = std::move(next);
  if (Status st = publish(p); !st.ok() && first_error.ok()) first_error = std::move(st);
  // A device given away while netd was not watching is revoked now (the first reconcile looks
  // at every device), and so is one held by someone a reload took out of its slice. While
  // netd runs, TunWatch reports every change of a device's holder: the devices of slices
  // whose members stayed need no look (a netlink request each).
  std::vector<std::pair<int, std::string>> adopted;
  for (const auto& [name, record] : registry_.all()) {
    const policy::SliceSpec* owner = p.find_by_id(record.slice_id);
    const policy::SliceSpec* before = previous != nullptr ? previous->find_by_id(record.slice_id) : nullptr;
    const bool members_stayed = holders_checked_ && owner != nullptr && before != nullptr &&
                                owner->uids == before->uids && owner->gids == before->gids;
    if (!members_stayed) adopted.emplace_back(record.ifindex, name);
  }
  holders_checked_ = true;
  check_holders(p, adopted, first_error);
  adopted_ = first_error.ok();
  return first_error;
}

void VifOps::check_holders(const policy::Policy& p, const std::vector<std::pair<int, std::string>>& devices,
                           Status& first_error) {
  for (const auto& [ifindex, name] : devices) {
    auto info = links_.tun_info(ifindex, name);
    if (!info.ok()) continue;
    // The notice of a revocation is not an error of the reconcile: the device is gone.
    if (auto revoked = on_tun_info(p, ifindex, *info); !revoked.ok() && first_error.ok())
      first_error = std::move(revoked).error();
  }
}

Status VifOps::apply_change(const policy::Policy& p, const policy::SliceDiff& diff) {
  // The registry is what exists (link events keep it): only the vifs of the slices the reload
  // touches are looked at. A device named like a vif that someone else made meanwhile waits
  // for the next full reconcile (the verify_interval check).
  if (diff.empty()) return ok_status();
  Status first_error = ok_status();
  bool dropped = false;
  auto drop_devices_of = [&](uint32_t id) {
    for (const auto& name : registry_.names_of(id)) {
      dropped = true;
      if (const VifRecord* record = registry_.find(name); record != nullptr) {
        if (Status st = remove_device(*record); !st.ok() && first_error.ok()) first_error = std::move(st);
      }
      registry_.erase(name);
    }
  };
  std::vector<std::pair<int, std::string>> members_changed;
  for (const policy::SliceSpec* gone : diff.removed) drop_devices_of(gone->id);
  for (const auto& c : diff.changed) {
    // An id now given to another slice: the device is not the new owner's to inherit.
    if (c.next->name != c.previous->name) {
      drop_devices_of(c.next->id);
      continue;
    }
    // Someone the reload took out of the slice may hold one of its devices.
    if (c.next->uids == c.previous->uids && c.next->gids == c.previous->gids) continue;
    for (const auto& name : registry_.names_of(c.next->id))
      if (const VifRecord* record = registry_.find(name); record != nullptr)
        members_changed.emplace_back(record->ifindex, name);
  }
  // The slices' marks and rights (snat, raw kinds) are in the isolation state: with the vifs
  // as they were, the isolation layer does the work of the changed slices only.
  Status published = dropped ? publish(p) : isolation_.publish_slices(p, diff);
  if (!published.ok()) published_.clear();  // as publish(): nothing is known to be published
  if (!published.ok() && first_error.ok()) first_error = std::move(published);
  check_holders(p, members_changed, first_error);
  if (!first_error.ok()) adopted_ = false;  // the next reload looks at every device again
  return first_error;
}

TeardownReport VifOps::teardown(kernel::LinkControl& links, kernel::LinkView& cache) {
  TeardownReport report;
  for (const auto& link : cache.links()) {
    if (!policy::parse_vif_name(link.name)) continue;
    Status st = links.remove(link.ifindex, link.name);
    if (!st.ok() && st.error().code == ENODEV) continue;  // gone already
    report.note("device " + link.name, st);
  }
  return report;
}

}  // namespace netd::ops
