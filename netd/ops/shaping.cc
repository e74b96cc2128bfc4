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

}  // namespace

Status ShapeOps::open(const policy::Policy& p) {
  if (maps_) return ok_status();
  NETD_ASSIGN_OR_RETURN(std::unique_ptr<kernel::ShapeMaps> maps, open_maps_({p.netd.bpffs, p.netd.mark_mask}));
  NETD_ASSIGN_OR_RETURN(own_, maps->read_limits());
  maps_ = std::move(maps);
  return ok_status();
}

std::map<std::string, policy::ShapeLimits> ShapeOps::own_limits() const {
  std::map<std::string, policy::ShapeLimits> out;
  for (const auto& [name, l] : own_) out[name] = {l.rate_bps, l.ceil_bps};
  return out;
}

std::map<std::string, int> ShapeOps::uplink_indexes(const policy::Policy& p) {
  std::map<std::string, int> out;
  for (const auto& name : p.netd.uplinks)
    if (int ifindex = links_.ifindex(name); ifindex > 0) out[name] = ifindex;
  return out;
}

Result<std::vector<kernel::HtbClassState>> ShapeOps::build_tree(int ifindex, const policy::UplinkShapePlan& plan) {
  NETD_TRY(htb_.ensure_root(ifindex, kShapeHtbMajor, kShapeDefaultMinor));
  NETD_ASSIGN_OR_RETURN(std::vector<kernel::HtbClassState> existing, htb_.classes(ifindex));
  std::map<uint32_t, kernel::HtbClassState> by_id;
  for (const auto& c : existing) by_id[c.classid] = c;
  for (const auto& c : plan.classes) {
    auto it = by_id.find(c.classid);
    if (it != by_id.end()) {
      // HTB cannot move a class: one under another parent (not netd's layout) is made anew.
      if (it->second.parent != reported_parent(c)) {
        NETD_TRY(htb_.remove_class(ifindex, c.classid));
      } else if (it->second.rate_bps == c.rate_bps && it->second.ceil_bps == c.ceil_bps) {
        continue;  // adopted as it is (a restart or a reload that did not touch it)
      }
    }
    NETD_TRY(htb_.set_class(ifindex, c.classid, c.rate_bps, c.ceil_bps, c.parent_classid));
  }
  NETD_TRY(maps_->attach(ifindex));
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

Status ShapeOps::reconcile(const policy::Policy& p) {
  NETD_TRY(open(p));
  for (auto it = own_.begin(); it != own_.end();) {
    const policy::SliceSpec* s = p.find_by_name(it->first);
    if (s != nullptr && policy::within_policy(*s, {it->second.rate_bps, it->second.ceil_bps})) {
      ++it;
      continue;
    }
    NETD_TRY(maps_->erase_limits(it->first));
    it = own_.erase(it);
  }
  const policy::UplinkShapePlan plan = policy::plan_shaping(p, own_limits());
  const std::map<std::string, int> uplinks = uplink_indexes(p);
  // Classes before the map names them, and the map before classes it stops naming go. What
  // each device had before is all pruning needs: classes build_tree made are in the plan.
  std::map<int, std::vector<kernel::HtbClassState>> before;
  for (const auto& [name, ifindex] : uplinks) {
    auto existing = build_tree(ifindex, plan);
    if (!existing.ok()) return std::move(existing).error().with_context("shaping " + name);
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

Status ShapeOps::on_link_event(const policy::Policy& p, const kernel::LinkEvent& e) {
  using Kind = kernel::LinkEvent::Kind;
  if (e.kind == Kind::kResync) return reconcile(p);
  bool uplink = std::find(p.netd.uplinks.begin(), p.netd.uplinks.end(), e.name) != p.netd.uplinks.end();
  if (!uplink || !maps_) return ok_status();
  if (e.kind == Kind::kLinkRemoved) return maps_->detach(e.ifindex);  // its tcx link went with it
  if (e.kind != Kind::kLinkAdded && e.kind != Kind::kLinkChanged) return ok_status();
  NETD_ASSIGN_OR_RETURN(std::vector<int> attached, maps_->attached());
  if (std::find(attached.begin(), attached.end(), e.ifindex) != attached.end()) return ok_status();
  return reconcile(p);
}

Result<nlohmann::json> ShapeOps::show(const policy::Policy& p, const policy::SliceSpec& s) {
  const policy::ShapeLimits limits = policy::policy_limits(s);
  const bool shaped = limits.rate_bps != 0;  // validation gives every shaped slice a class minor
  const policy::ShapeLimits current = policy::effective_limits(s, own_limits());
  nlohmann::json out = {{"slice", s.name}, {"lowered", shaped && current != limits}, {"uplinks", nlohmann::json::array()}};
  if (shaped) {
    out["policy"] = limits_json(limits);
    out["current"] = limits_json(current);
  }
  // An unshaped slice's traffic is in the default class: shown so it knows where it stands.
  const uint32_t classid = policy::shape_classid(shaped ? s.id : kShapeDefaultMinor);
  for (const auto& [name, ifindex] : uplink_indexes(p)) {
    auto classes = htb_.classes(ifindex);
    if (!classes.ok()) return kernel_error(std::move(classes).error());
    for (const auto& c : *classes) {
      if (c.classid != classid) continue;
      out["uplinks"].push_back({{"device", name}, {"ifindex", ifindex}, {"classid", classid_text(classid)},
                                {"rate", c.rate_bps}, {"ceil", c.ceil_bps}, {"bytes", c.bytes},
                                {"packets", c.packets}});
    }
  }
  return out;
}

Result<nlohmann::json> ShapeOps::set(const policy::Policy& p, const policy::SliceSpec& s,
                                     const api::shaping::SetIn& in) {
  policy::ShapeSetRequest req;
  NETD_ASSIGN_OR_RETURN(req.rate_bps, varlink::to_u64("rate", in.rate));
  NETD_ASSIGN_OR_RETURN(req.ceil_bps, varlink::to_u64("ceil", in.ceil));
  NETD_TRY(open(p));
  const policy::ShapeLimits current = policy::effective_limits(s, own_limits());
  NETD_ASSIGN_OR_RETURN(policy::ShapeLimits next, policy::decide_shape_set(s, current, req));

  const auto before = own_;
  if (next == policy::policy_limits(s)) {
    own_.erase(s.name);
  } else {
    own_[s.name] = {next.rate_bps, next.ceil_bps};
  }
  // Uplinks first, the store after: a failure puts the old limits back everywhere.
  Status applied = reconcile(p);
  if (applied.ok())
    applied = own_.count(s.name) ? maps_->put_limits(s.name, own_[s.name]) : maps_->erase_limits(s.name);
  if (!applied.ok()) {
    own_ = before;
    std::string uplinks;
    for (const auto& entry : uplink_indexes(p)) uplinks += (uplinks.empty() ? "" : ", ") + entry.first;
    return with_undo(kernel_error(std::move(applied).error()), reconcile(p),
                     "class " + classid_text(policy::shape_classid(s.id)) + " of slice " + s.name + " on " +
                         (uplinks.empty() ? std::string("no uplink") : uplinks) + ", perhaps at the refused limits");
  }
  return nlohmann::json{{"current", limits_json(next)}};
}

TeardownReport ShapeOps::teardown(kernel::HtbControl& htb, kernel::LinkView& links, const policy::Policy& p) {
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
  report.note("shaping limit pin under " + p.netd.bpffs, kernel::ShapeLimitStore::teardown(p.netd.bpffs));
  report.note("shaping classifier links and pins under " + p.netd.bpffs,
              kernel::ShapeClassifier::teardown(p.netd.bpffs));
  return report;
}

}  // namespace netd::ops
