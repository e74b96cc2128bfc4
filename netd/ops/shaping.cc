#include "netd/ops/shaping.h"

#include <linux/pkt_sched.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "lib/core/errors.h"
#include "lib/varlink/schema.h"

namespace netd::ops {
namespace {

using policy::kShapeHtbMajor;
using policy::kShapeDefaultMinor;
using Direction = policy::ShapeDirection;

constexpr Direction kBoth[] = {Direction::kEgress, Direction::kIngress};

bool is_ingress(Direction d) { return d == Direction::kIngress; }

std::string classid_text(uint32_t classid) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%x:%x", classid >> 16, classid & 0xffff);
  return buf;
}

nlohmann::json limits_json(const policy::ShapeLimits& l) { return {{"rate", l.rate_bps}, {"ceil", l.ceil_bps}}; }

// HTB reports the children of the qdisc itself with parent TC_H_ROOT.
uint32_t reported_parent(const policy::ShapeClassPlan& c) {
  return c.parent_classid != 0 ? c.parent_classid : TC_H_ROOT;
}

std::string names_of(const std::map<std::string, int>& uplinks) {
  std::string out;
  for (const auto& entry : uplinks) out += (out.empty() ? "" : ", ") + entry.first;
  return out.empty() ? std::string("no uplink") : out;
}

}  // namespace

Status ShapeOps::open(const policy::Policy& p) {
  if (maps_) return ok_status();
  NETD_ASSIGN_OR_RETURN(std::unique_ptr<kernel::ShapeMaps> maps, open_maps_({p.netd.bpffs, p.netd.mark_mask}));
  std::array<OwnLimits, 2> own;
  for (Direction d : kBoth) {
    NETD_ASSIGN_OR_RETURN(own[is_ingress(d)], maps->read_limits(is_ingress(d)));
  }
  own_ = std::move(own);
  maps_ = std::move(maps);
  return ok_status();
}

std::map<std::string, policy::ShapeLimits> ShapeOps::own_limits(Direction d) const {
  std::map<std::string, policy::ShapeLimits> out;
  for (const auto& [name, l] : own(d)) out[name] = {l.rate_bps, l.ceil_bps};
  return out;
}

std::map<std::string, int> ShapeOps::uplink_indexes(const policy::Policy& p) {
  std::map<std::string, int> out;
  for (const auto& name : p.netd.uplinks)
    if (int ifindex = links_.ifindex(name); ifindex > 0) out[name] = ifindex;
  return out;
}

Status ShapeOps::remove_stray_ifbs(const std::set<int>& wanted) {
  bool stray = false;
  for (int ifb : ensured_) stray |= wanted.count(ifb) == 0;
  for (const auto& link : links_.links())
    stray |= link.name.rfind(kernel::IfbControl::kNamePrefix, 0) == 0 && wanted.count(link.ifindex) == 0;
  if (!stray) return ok_status();  // the usual case: no dump of every device per reconcile
  auto existing = ifbs_.list();
  if (!existing.ok()) return std::move(existing).error().with_context("listing netd's IFB devices");
  for (const auto& [uplink, ifb] : *existing)
    if (wanted.count(ifb) == 0) NETD_TRY(ifbs_.remove(ifb));
  ensured_ = wanted;
  return ok_status();
}

Result<std::vector<kernel::HtbClassState>> ShapeOps::build_tree(int ifindex, const policy::UplinkShapePlan& plan) {
  NETD_TRY(htb_.ensure_root(ifindex, kShapeHtbMajor, kShapeDefaultMinor));
  NETD_ASSIGN_OR_RETURN(std::vector<kernel::HtbClassState> existing, htb_.classes(ifindex));
  std::map<uint32_t, kernel::HtbClassState> by_id;
  for (const auto& c : existing) by_id[c.classid] = c;
  for (const auto& c : plan.classes) {
    auto it = by_id.find(c.classid);
    bool adopted = false;
    if (it != by_id.end()) {
      // HTB cannot move a class: one under another parent (not netd's layout) is made anew.
      if (it->second.parent != reported_parent(c)) {
        NETD_TRY(htb_.remove_class(ifindex, c.classid));
        by_id.erase(it);
      } else {
        // A restart or a reload that did not touch it: adopted as it is.
        adopted = it->second.rate_bps == c.rate_bps && it->second.ceil_bps == c.ceil_bps;
      }
    }
    if (!adopted) NETD_TRY(htb_.set_class(ifindex, c.classid, c.rate_bps, c.ceil_bps, c.parent_classid));
    if (c.leaf_limit_bytes == 0) continue;
    auto was = by_id.find(c.classid);
    if (was == by_id.end() || was->second.leaf_limit_bytes != c.leaf_limit_bytes)
      NETD_TRY(htb_.set_leaf_bfifo(ifindex, c.classid, c.leaf_limit_bytes));
  }
  return existing;
}

Status ShapeOps::prune_tree(int ifindex, const policy::UplinkShapePlan& plan,
                            std::vector<kernel::HtbClassState> existing) {
  std::set<uint32_t> wanted;
  for (const auto& c : plan.classes) wanted.insert(c.classid);
  // Leaves first: HTB refuses to delete a class that still has children.
  std::stable_partition(existing.begin(), existing.end(),
                        [](const kernel::HtbClassState& c) { return c.parent != TC_H_ROOT; });
  for (const auto& c : existing)
    if (wanted.count(c.classid) == 0) NETD_TRY(htb_.remove_class(ifindex, c.classid));
  return ok_status();
}

Status ShapeOps::forget_stale_limits(const policy::Policy& p, Direction d) {
  OwnLimits& limits = own(d);
  for (auto it = limits.begin(); it != limits.end();) {
    const policy::SliceSpec* s = p.find_by_name(it->first);
    if (s != nullptr && policy::within_policy(*s, {it->second.rate_bps, it->second.ceil_bps}, d)) {
      ++it;
      continue;
    }
    NETD_TRY(maps_->erase_limits(is_ingress(d), it->first));
    it = limits.erase(it);
  }
  return ok_status();
}

Status ShapeOps::reconcile(const policy::Policy& p, bool read_kernel) {
  NETD_TRY(open(p));
  for (Direction d : kBoth) NETD_TRY(forget_stale_limits(p, d));
  const std::map<std::string, int> uplinks = uplink_indexes(p);
  NETD_TRY(reconcile_egress(p, uplinks, read_kernel));
  return reconcile_ingress(p, uplinks, read_kernel);
}

Status ShapeOps::update_trees(Direction d, const policy::UplinkShapePlan& plan) {
  const KnownTrees& was = *known(d);
  const policy::ShapePlanChanges changes = policy::diff_plans(was.plan, plan);
  for (const auto& [uplink, device] : was.device_of) {
    for (const auto& c : changes.set) {
      NETD_TRY(htb_.set_class(device, c.classid, c.rate_bps, c.ceil_bps, c.parent_classid));
      if (c.leaf_limit_bytes != 0) NETD_TRY(htb_.set_leaf_bfifo(device, c.classid, c.leaf_limit_bytes));
    }
  }
  // As in a rebuild: classes before the map names them, the map before classes it stops naming go.
  NETD_TRY(is_ingress(d) ? maps_->sync_ingress_classes(plan.class_of_mark) : maps_->sync_classes(plan.class_of_mark));
  for (const auto& [uplink, device] : was.device_of)
    for (uint32_t classid : changes.removed) NETD_TRY(htb_.remove_class(device, classid));
  return ok_status();
}

Status ShapeOps::relimit(Direction d, const policy::SliceSpec& s, const policy::ShapeLimits& limits) {
  std::optional<KnownTrees>& trees = known(d);
  if (s.id >= policy::kFirstReservedShapeMinor) return ok_status();  // no class of its own
  const std::vector<policy::ShapeClassPlan> changed = policy::relimit_slice(trees->plan, policy::shape_classid(s.id), limits, d);
  for (const auto& [uplink, device] : trees->device_of) {
    for (const auto& c : changed) {
      Status st = htb_.set_class(device, c.classid, c.rate_bps, c.ceil_bps, c.parent_classid);
      if (st.ok() && c.leaf_limit_bytes != 0) st = htb_.set_leaf_bfifo(device, c.classid, c.leaf_limit_bytes);
      if (!st.ok()) {
        trees.reset();  // the plan says the new limits, the trees are part way: read them next time
        return std::move(st).error().with_context((is_ingress(d) ? "download shaping of " : "shaping ") +
                                                  links_.name(uplink));
      }
    }
  }
  return ok_status();
}

Status ShapeOps::reconcile_egress(const policy::Policy& p, const std::map<std::string, int>& uplinks,
                                  bool read_kernel) {
  // No slice shaped on the way out: no tree, no classifier, an empty map, known as such.
  const bool shaped = policy::shapes_egress(p);
  policy::UplinkShapePlan plan;
  std::map<int, int> device_of;
  if (shaped) {
    plan = policy::plan_shaping(p, own_limits(Direction::kEgress));
    for (const auto& entry : uplinks) device_of[entry.second] = entry.second;
  }
  std::optional<KnownTrees>& trees = known(Direction::kEgress);
  if (!read_kernel && trees && trees->device_of == device_of && update_trees(Direction::kEgress, plan).ok()) {
    trees->plan = std::move(plan);
    return ok_status();
  }
  // Not known, or the kernel refused a change from memory (a tree someone else changed or
  // deleted): every tree read and mended.
  trees.reset();
  NETD_TRY(rebuild_egress(plan, shaped ? uplinks : std::map<std::string, int>{}));
  if (!shaped)  // a tree an older netd left on an uplink while nothing was shaped
    for (const auto& [name, ifindex] : uplinks)
      if (Status st = htb_.remove_root(ifindex, kShapeHtbMajor); !st.ok())
        return std::move(st).error().with_context("shaping " + name);
  trees = KnownTrees{std::move(plan), std::move(device_of)};
  return ok_status();
}

Status ShapeOps::rebuild_egress(const policy::UplinkShapePlan& plan, const std::map<std::string, int>& uplinks) {
  // Classes before the map names them, and the map before classes it stops naming go. What
  // each device had before is all pruning needs: classes build_tree made are in the plan.
  std::map<int, std::vector<kernel::HtbClassState>> before;
  for (const auto& [name, ifindex] : uplinks) {
    auto existing = build_tree(ifindex, plan);
    Status attached = existing.ok() ? maps_->attach(ifindex) : ok_status();
    if (!existing.ok()) return std::move(existing).error().with_context("shaping " + name);
    if (!attached.ok()) return std::move(attached).error().with_context("shaping " + name);
    before[ifindex] = std::move(existing).value();
  }
  NETD_TRY(maps_->sync_classes(plan.class_of_mark));
  for (const auto& [name, ifindex] : uplinks)
    if (Status st = prune_tree(ifindex, plan, std::move(before[ifindex])); !st.ok())
      return std::move(st).error().with_context("shaping " + name);

  // Devices classified before that are no uplinks now (or are gone): back to what they had.
  std::set<int> wanted;
  for (const auto& entry : uplinks) wanted.insert(entry.second);
  NETD_ASSIGN_OR_RETURN(std::vector<int> attached, maps_->attached());
  for (int ifindex : attached) {
    if (wanted.count(ifindex) != 0) continue;
    NETD_TRY(maps_->detach(ifindex));
    NETD_TRY(htb_.remove_root(ifindex, kShapeHtbMajor));
  }
  return ok_status();
}

Status ShapeOps::reconcile_ingress(const policy::Policy& p, const std::map<std::string, int>& uplinks,
                                   bool read_kernel) {
  // No slice shaped on the way in: no tree, no IFB, an empty map, known as such.
  const bool shaped = policy::shapes_ingress(p);
  policy::UplinkShapePlan plan;
  if (shaped) plan = policy::plan_shaping(p, own_limits(Direction::kIngress), Direction::kIngress);
  std::optional<KnownTrees>& trees = known(Direction::kIngress);
  if (!read_kernel && trees) {
    // The IFBs netd knows, still there under their names (the link cache says, no dump).
    std::map<int, int> device_of;
    if (shaped)
      for (const auto& entry : uplinks) device_of[entry.second] = links_.ifindex(kernel::IfbControl::name_for(entry.second));
    if (trees->device_of == device_of && update_trees(Direction::kIngress, plan).ok()) {
      trees->plan = std::move(plan);
      return ok_status();
    }
  }
  trees.reset();
  std::map<int, int> ifb_of;
  NETD_TRY(rebuild_ingress(p, plan, uplinks, ifb_of));
  trees = KnownTrees{std::move(plan), std::move(ifb_of)};
  return ok_status();
}

Status ShapeOps::rebuild_ingress(const policy::Policy& p, const policy::UplinkShapePlan& plan,
                                 const std::map<std::string, int>& uplinks, std::map<int, int>& ifb_of) {
  // ifb_of: uplink ifindex → IFB ifindex, of the uplinks shaped on the way in.
  if (policy::shapes_ingress(p)) {
    // As on egress: the trees, then the map, then pruning; the redirect only once the IFB's
    // tree and the map are in place, so no download waits in a tree that is half made.
    std::map<int, std::vector<kernel::HtbClassState>> before;
    for (const auto& [name, ifindex] : uplinks) {
      auto ifb = ifbs_.ensure(ifindex, name);
      if (!ifb.ok()) return std::move(ifb).error().with_context("download shaping of " + name);
      ensured_.insert(*ifb);
      auto existing = build_tree(*ifb, plan);
      if (!existing.ok()) return std::move(existing).error().with_context("download shaping of " + name);
      ifb_of[ifindex] = *ifb;
      before[*ifb] = std::move(existing).value();
    }
    NETD_TRY(maps_->sync_ingress_classes(plan.class_of_mark));
    for (const auto& [name, ifindex] : uplinks) {
      const int ifb = ifb_of[ifindex];
      Status st = prune_tree(ifb, plan, std::move(before[ifb]));
      if (st.ok()) st = maps_->attach_ingress(ifindex, ifb);
      if (!st.ok()) return std::move(st).error().with_context("download shaping of " + name);
    }
  } else {
    NETD_TRY(maps_->sync_ingress_classes({}));  // nothing redirects: no entry should linger
  }
  // Uplinks no longer shaped on the way in (or no uplinks any more): the redirect goes first,
  // then the IFB (with its tree); an IFB whose uplink is gone goes too.
  NETD_ASSIGN_OR_RETURN(std::vector<int> attached, maps_->attached_ingress());
  for (int ifindex : attached)
    if (ifb_of.count(ifindex) == 0) NETD_TRY(maps_->detach_ingress(ifindex));
  std::set<int> wanted;
  for (const auto& entry : ifb_of) wanted.insert(entry.second);
  return remove_stray_ifbs(wanted);
}

Status ShapeOps::on_link_event(const policy::Policy& p, const kernel::LinkEvent& e) {
  using Kind = kernel::LinkEvent::Kind;
  if (e.kind == Kind::kResync) return reconcile(p, /*read_kernel=*/true);  // events were lost
  if (!maps_) return ok_status();
  const bool uplink = std::find(p.netd.uplinks.begin(), p.netd.uplinks.end(), e.name) != p.netd.uplinks.end();
  if (!uplink) {
    // One of netd's IFBs deleted by someone else: made again while downloads are shaped.
    const bool ours = e.name.rfind(kernel::IfbControl::kNamePrefix, 0) == 0;
    return ours && e.kind == Kind::kLinkRemoved && policy::shapes_ingress(p) ? reconcile(p) : ok_status();
  }
  if (e.kind == Kind::kLinkRemoved) {
    // Its tcx links went with it; the pins, the IFB and its tree go now.
    NETD_TRY(maps_->detach(e.ifindex));
    return reconcile(p);
  }
  if (e.kind != Kind::kLinkAdded && e.kind != Kind::kLinkChanged) return ok_status();
  NETD_ASSIGN_OR_RETURN(std::vector<int> attached, maps_->attached());
  bool complete =
      !policy::shapes_egress(p) || std::find(attached.begin(), attached.end(), e.ifindex) != attached.end();
  if (complete && policy::shapes_ingress(p)) {
    NETD_ASSIGN_OR_RETURN(std::vector<int> attached_in, maps_->attached_ingress());
    complete = std::find(attached_in.begin(), attached_in.end(), e.ifindex) != attached_in.end();
  }
  return complete ? ok_status() : reconcile(p);
}

Result<nlohmann::json> ShapeOps::show_direction(const policy::Policy& p, const policy::SliceSpec& s, Direction d) {
  const std::string suffix = is_ingress(d) ? "_in" : "";
  const policy::ShapeLimits limits = policy::policy_limits(s, d);
  const bool shaped = limits.rate_bps != 0;  // validation gives every shaped slice a class minor
  const policy::ShapeLimits current = policy::effective_limits(s, own_limits(d), d);
  nlohmann::json out = {{"lowered" + suffix, shaped && current != limits}, {"uplinks" + suffix, nlohmann::json::array()}};
  if (shaped) {
    out["policy" + suffix] = limits_json(limits);
    out["current" + suffix] = limits_json(current);
  }
  // Which device holds each uplink's tree of this direction.
  std::vector<std::pair<std::string, int>> trees;  // uplink name, device with the tree
  const std::map<std::string, int> uplinks = uplink_indexes(p);
  if (!is_ingress(d)) {
    if (policy::shapes_egress(p))
      for (const auto& entry : uplinks) trees.push_back(entry);
  } else if (policy::shapes_ingress(p)) {  // from the link cache: Show makes no netlink dump of devices
    for (const auto& [name, ifindex] : uplinks)
      if (int ifb = links_.ifindex(kernel::IfbControl::name_for(ifindex)); ifb > 0) trees.emplace_back(name, ifb);
  }
  // An unshaped slice's traffic is in the default class: shown so it knows where it stands.
  const uint32_t classid = policy::shape_classid(shaped ? s.id : kShapeDefaultMinor);
  // The one class asked for by id: a dump would read every slice's class (and its leaf).
  for (const auto& [name, device] : trees) {
    auto found = htb_.find_class(device, classid);
    if (!found.ok()) return kernel_error(std::move(found).error());
    if (!*found) continue;
    const kernel::HtbClassState& c = **found;
    nlohmann::json row = {{"device", name}, {"ifindex", uplinks.at(name)}, {"classid", classid_text(classid)},
                          {"rate", c.rate_bps}, {"ceil", c.ceil_bps}, {"bytes", c.bytes}, {"packets", c.packets}};
    if (is_ingress(d)) row["ifb"] = kernel::IfbControl::name_for(uplinks.at(name));
    out["uplinks" + suffix].push_back(std::move(row));
  }
  return out;
}

Result<nlohmann::json> ShapeOps::show(const policy::Policy& p, const policy::SliceSpec& s) {
  nlohmann::json out = {{"slice", s.name}};
  for (Direction d : kBoth) {
    NETD_ASSIGN_OR_RETURN(nlohmann::json part, show_direction(p, s, d));
    out.update(part);
  }
  return out;
}

Result<nlohmann::json> ShapeOps::set(const policy::Policy& p, const policy::SliceSpec& s,
                                     const api::shaping::SetIn& in) {
  std::array<policy::ShapeSetRequest, 2> req;
  NETD_ASSIGN_OR_RETURN(req[0].rate_bps, varlink::to_u64("rate", in.rate));
  NETD_ASSIGN_OR_RETURN(req[0].ceil_bps, varlink::to_u64("ceil", in.ceil));
  NETD_ASSIGN_OR_RETURN(req[1].rate_bps, varlink::to_u64("rate_in", in.rate_in));
  NETD_ASSIGN_OR_RETURN(req[1].ceil_bps, varlink::to_u64("ceil_in", in.ceil_in));
  NETD_TRY(open(p));

  // Which directions change: those with a field; no field at all restores every direction the
  // policy shapes (or, for a slice shaped in neither, is refused as before).
  auto given = [&](Direction d) { return req[is_ingress(d)].rate_bps || req[is_ingress(d)].ceil_bps; };
  const bool any = given(Direction::kEgress) || given(Direction::kIngress);
  std::vector<Direction> changing;
  for (Direction d : kBoth)
    if (any ? given(d) : policy::policy_limits(s, d).rate_bps != 0) changing.push_back(d);
  if (changing.empty()) changing.push_back(Direction::kEgress);

  // Every direction decided before anything is applied: a refusal changes nothing.
  std::array<std::optional<policy::ShapeLimits>, 2> next;
  for (Direction d : changing) {
    const policy::ShapeLimits current = policy::effective_limits(s, own_limits(d), d);
    auto decided = policy::decide_shape_set(s, current, req[is_ingress(d)], d);
    if (!decided.ok()) {
      if (is_ingress(d)) return std::move(decided).error().with_context("downloads");
      return std::move(decided).error();
    }
    next[is_ingress(d)] = *decided;
  }

  const auto before = own_;
  for (Direction d : changing) {
    const policy::ShapeLimits& limits = *next[is_ingress(d)];
    if (limits == policy::policy_limits(s, d))
      own(d).erase(s.name);
    else
      own(d)[s.name] = {limits.rate_bps, limits.ceil_bps};
  }
  // Uplinks first, the stores after: a failure puts the old limits back everywhere. Trees
  // netd knows get the slice's class and the default class alone, with nothing read.
  const bool from_memory = std::all_of(changing.begin(), changing.end(), [&](Direction d) { return known(d).has_value(); });
  Status applied = ok_status();
  if (from_memory) {
    for (Direction d : changing)
      if (applied = relimit(d, s, *next[is_ingress(d)]); !applied.ok()) break;
  } else {
    applied = reconcile(p);
  }
  for (Direction d : changing) {
    if (!applied.ok()) break;
    const bool in = is_ingress(d);
    applied = own(d).count(s.name) ? maps_->put_limits(in, s.name, own(d)[s.name]) : maps_->erase_limits(in, s.name);
  }
  if (!applied.ok()) {
    own_ = before;
    // The stores as they were (a direction stored before the failing one), then the kernel.
    Status undo = ok_status();
    for (Direction d : changing) {
      const bool in = is_ingress(d);
      Status st = own(d).count(s.name) ? maps_->put_limits(in, s.name, own(d)[s.name]) : maps_->erase_limits(in, s.name);
      if (undo.ok()) undo = std::move(st);
    }
    if (Status again = reconcile(p); undo.ok()) undo = std::move(again);
    return with_undo(kernel_error(std::move(applied).error()), std::move(undo),
                     "class " + classid_text(policy::shape_classid(s.id)) + " of slice " + s.name + " on " +
                         names_of(uplink_indexes(p)) + ", perhaps at the refused limits");
  }
  nlohmann::json out = nlohmann::json::object();
  for (Direction d : kBoth) {
    if (policy::policy_limits(s, d).rate_bps == 0) continue;
    out[is_ingress(d) ? "current_in" : "current"] = limits_json(policy::effective_limits(s, own_limits(d), d));
  }
  return out;
}

TeardownReport ShapeOps::teardown(kernel::HtbControl& htb, kernel::IfbControl& ifbs, kernel::LinkView& links,
                                  const policy::Policy& p) {
  TeardownReport report;
  std::set<int> devices;
  if (auto attached = kernel::ShapeClassifier::attached_in(p.netd.bpffs); attached.ok())
    devices.insert(attached->begin(), attached->end());
  else  // the uplinks' trees still go; the classifier's own teardown below names its pins
    report.note("HTB roots of devices no longer uplinks", Status(std::move(attached).error()));
  for (const auto& name : p.netd.uplinks)
    if (int ifindex = links.ifindex(name); ifindex > 0) devices.insert(ifindex);
  for (int ifindex : devices) {
    const std::string name = links.name(ifindex);
    report.note("HTB root qdisc of " + (name.empty() ? "ifindex " + std::to_string(ifindex) : name),
                htb.remove_root(ifindex, kShapeHtbMajor));
  }
  // The redirects before the IFBs they point at.
  report.note("download shaping classifier links and pins under " + p.netd.bpffs,
              kernel::IngressClassifier::teardown(p.netd.bpffs));
  if (auto existing = ifbs.list(); existing.ok()) {
    for (const auto& [uplink, ifb] : *existing)
      report.note("IFB device " + kernel::IfbControl::name_for(uplink), ifbs.remove(ifb));
  } else {
    report.note("netd's IFB devices", Status(std::move(existing).error()));
  }
  report.note("shaping limit pins under " + p.netd.bpffs, kernel::ShapeLimitStore::teardown(p.netd.bpffs));
  report.note("shaping classifier links and pins under " + p.netd.bpffs,
              kernel::ShapeClassifier::teardown(p.netd.bpffs));
  return report;
}

}  // namespace netd::ops
