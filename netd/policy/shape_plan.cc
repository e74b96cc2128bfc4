#include "netd/policy/shape_plan.h"

#include <algorithm>
#include <cerrno>
#include <span>

#include "lib/core/errors.h"

namespace netd::policy {

namespace {

bool ingress(ShapeDirection dir) { return dir == ShapeDirection::kIngress; }

// The policy keys of a direction, for messages.
const char* rate_key(ShapeDirection dir) { return ingress(dir) ? "rate_in" : "rate"; }
const char* ceil_key(ShapeDirection dir) { return ingress(dir) ? "ceil_in" : "ceil"; }

// The slice's policy rate and ceil in `dir`, as written (ceil 0: omitted).
ShapeLimits written(const SliceSpec& s, ShapeDirection dir) {
  return ingress(dir) ? ShapeLimits{s.rate_in_bps, s.ceil_in_bps} : ShapeLimits{s.rate_bps, s.ceil_bps};
}

// What the slices are not guaranteed belongs to unmarked traffic, but never less than 1 %:
// an overbooked uplink must still carry the host's own traffic.
uint64_t default_class_rate(uint64_t uplink, uint64_t guaranteed) {
  const uint64_t floor = std::max<uint64_t>(uplink / 100, kMinShapeRate);
  return guaranteed < uplink ? std::max(uplink - guaranteed, floor) : floor;
}

uint32_t leaf_limit(ShapeDirection dir, uint64_t rate_bps) {
  return ingress(dir) ? ingress_leaf_limit_bytes(rate_bps) : 0;
}

// Where the slices' classes start in a plan's classes: after the top and the default class.
constexpr size_t kFirstSliceClass = 2;

}  // namespace

ShapeLimits policy_limits(const SliceSpec& s, ShapeDirection dir) {
  const ShapeLimits w = written(s, dir);
  if (w.rate_bps == 0) return {};
  return {w.rate_bps, w.ceil_bps != 0 ? w.ceil_bps : w.rate_bps};
}

bool within_policy(const SliceSpec& s, const ShapeLimits& own, ShapeDirection dir) {
  ShapeLimits limit = policy_limits(s, dir);
  return limit.rate_bps != 0 && own.rate_bps >= kMinShapeRate && own.rate_bps <= own.ceil_bps &&
         own.rate_bps <= limit.rate_bps && own.ceil_bps <= limit.ceil_bps;
}

ShapeLimits effective_limits(const SliceSpec& s, const std::map<std::string, ShapeLimits>& own, ShapeDirection dir) {
  auto it = own.find(s.name);
  if (it != own.end() && within_policy(s, it->second, dir)) return it->second;
  return policy_limits(s, dir);
}

bool shapes_egress(const Policy& p) {
  return std::any_of(p.slices.begin(), p.slices.end(), [](const SliceSpec& s) { return s.rate_bps != 0; });
}

bool shapes_ingress(const Policy& p) {
  return std::any_of(p.slices.begin(), p.slices.end(), [](const SliceSpec& s) { return s.rate_in_bps != 0; });
}

// Arriving packets reach the IFB as GRO aggregates of up to 64 KB each, so the kernel's
// default leaf (a pfifo of txqueuelen packets) holds megabytes: at 10 Mbit it queued 1.2 s
// (measured RTT) before dropping, and TCP senders only slow down on drops. A byte limit of
// 100 ms at the class's guaranteed rate (which it always drains at, borrowing only makes it
// faster) keeps the delay near 100 ms; at least 128 KiB so a slow class still holds a few
// 64 KB aggregates, at most 32 MiB so a fast one cannot pin unbounded memory.
uint32_t ingress_leaf_limit_bytes(uint64_t rate_bps) {
  const uint64_t bytes = rate_bps / 8 / 10;  // bytes per second × 100 ms
  return static_cast<uint32_t>(std::clamp<uint64_t>(bytes, kMinIngressLeafBytes, kMaxIngressLeafBytes));
}

UplinkShapePlan plan_shaping(const Policy& p, const std::map<std::string, ShapeLimits>& own, ShapeDirection dir) {
  const uint64_t uplink = ingress(dir) ? p.netd.uplink_rate_in_bps : p.netd.uplink_rate_bps;
  const uint32_t top = shape_classid(kShapeTopMinor);
  const uint32_t fallback = shape_classid(kShapeDefaultMinor);
  UplinkShapePlan plan;
  std::vector<const SliceSpec*> shaped;
  uint64_t guaranteed = 0;
  for (const auto& s : p.slices) {
    if (written(s, dir).rate_bps == 0 || s.id >= kFirstReservedShapeMinor) continue;
    shaped.push_back(&s);
    guaranteed += effective_limits(s, own, dir).rate_bps;
  }
  std::sort(shaped.begin(), shaped.end(), [](const SliceSpec* a, const SliceSpec* b) { return a->id < b->id; });
  const uint64_t default_rate = default_class_rate(uplink, guaranteed);
  plan.guaranteed_bps = guaranteed;
  plan.classes.push_back({top, 0, uplink, uplink, 0});
  plan.classes.push_back({fallback, top, default_rate, uplink, 0, leaf_limit(dir, default_rate)});
  plan.class_of_mark[0] = fallback;
  for (const SliceSpec* s : shaped) {
    ShapeLimits limits = effective_limits(*s, own, dir);
    plan.classes.push_back(
        {shape_classid(s->id), top, limits.rate_bps, limits.ceil_bps, s->id, leaf_limit(dir, limits.rate_bps)});
    plan.class_of_mark[p.mark_of(*s)] = shape_classid(s->id);
  }
  return plan;
}

std::vector<ShapeClassPlan> relimit_slice(UplinkShapePlan& plan, uint32_t classid, const ShapeLimits& limits,
                                          ShapeDirection dir) {
  if (plan.classes.size() <= kFirstSliceClass) return {};
  // The slices' classes are in ascending classid order (ascending slice id).
  auto first = plan.classes.begin() + kFirstSliceClass;
  auto it = std::lower_bound(first, plan.classes.end(), classid,
                             [](const ShapeClassPlan& c, uint32_t id) { return c.classid < id; });
  if (it == plan.classes.end() || it->classid != classid) return {};
  std::vector<ShapeClassPlan> changed;
  plan.guaranteed_bps = plan.guaranteed_bps - it->rate_bps + limits.rate_bps;
  ShapeClassPlan& fallback = plan.classes[1];
  const uint64_t default_rate = default_class_rate(plan.classes[0].rate_bps, plan.guaranteed_bps);
  if (fallback.rate_bps != default_rate) {
    fallback.rate_bps = default_rate;
    fallback.leaf_limit_bytes = leaf_limit(dir, default_rate);
    changed.push_back(fallback);
  }
  if (it->rate_bps != limits.rate_bps || it->ceil_bps != limits.ceil_bps) {
    it->rate_bps = limits.rate_bps;
    it->ceil_bps = limits.ceil_bps;
    it->leaf_limit_bytes = leaf_limit(dir, limits.rate_bps);
    changed.push_back(*it);
  }
  return changed;
}

ShapePlanChanges diff_plans(const UplinkShapePlan& before, const UplinkShapePlan& after) {
  ShapePlanChanges out;
  // The top and default classes by position; the slices' classes, ascending, by a merge.
  auto head = [](const UplinkShapePlan& p) {
    return std::span<const ShapeClassPlan>(p.classes.data(), std::min(p.classes.size(), kFirstSliceClass));
  };
  auto tail = [](const UplinkShapePlan& p) {
    return std::span<const ShapeClassPlan>(p.classes).subspan(std::min(p.classes.size(), kFirstSliceClass));
  };
  auto find_in = [](std::span<const ShapeClassPlan> classes, uint32_t classid) -> const ShapeClassPlan* {
    for (const auto& c : classes)
      if (c.classid == classid) return &c;
    return nullptr;
  };
  for (const auto& c : head(after))
    if (const ShapeClassPlan* was = find_in(head(before), c.classid); was == nullptr || !(*was == c))
      out.set.push_back(c);
  std::span<const ShapeClassPlan> old_slices = tail(before), new_slices = tail(after);
  size_t i = 0, j = 0;
  while (i < old_slices.size() || j < new_slices.size()) {
    if (j == new_slices.size() || (i < old_slices.size() && old_slices[i].classid < new_slices[j].classid)) {
      out.removed.push_back(old_slices[i++].classid);
    } else if (i == old_slices.size() || new_slices[j].classid < old_slices[i].classid) {
      out.set.push_back(new_slices[j++]);
    } else {
      if (!(old_slices[i] == new_slices[j])) out.set.push_back(new_slices[j]);
      ++i;
      ++j;
    }
  }
  // The top and default classes of `before` that `after` lacks go last (the slices' classes
  // hang under the top class).
  for (auto it = head(before).rbegin(); it != head(before).rend(); ++it)
    if (find_in(head(after), it->classid) == nullptr) out.removed.push_back(it->classid);
  return out;
}

Result<ShapeLimits> decide_shape_set(const SliceSpec& s, const ShapeLimits& current, const ShapeSetRequest& req,
                                     ShapeDirection dir) {
  const ShapeLimits limit = policy_limits(s, dir);
  const std::string rate = rate_key(dir), ceil = ceil_key(dir);
  if (limit.rate_bps == 0)
    return refused("slice " + s.name + " is not shaped by the policy" + (ingress(dir) ? " on ingress" : "") +
                   " (it has no " + rate + "): there is nothing to lower or restore");
  if (!req.rate_bps && !req.ceil_bps) return limit;
  ShapeLimits next = current;
  if (req.rate_bps) {
    next.rate_bps = *req.rate_bps;
    next.ceil_bps = req.ceil_bps ? *req.ceil_bps : *req.rate_bps;
  } else {
    next.ceil_bps = *req.ceil_bps;
    next.rate_bps = std::min(current.rate_bps, next.ceil_bps);
  }
  auto above = [&](const std::string& what, uint64_t asked, uint64_t allowed) {
    return refused(what + " " + format_rate_bps(asked) + " is above slice " + s.name + "'s policy " + what + " " +
                   format_rate_bps(allowed) + ": a slice may lower its rates, never raise them");
  };
  if (next.rate_bps > limit.rate_bps) return above(rate, next.rate_bps, limit.rate_bps);
  if (next.ceil_bps > limit.ceil_bps) return above(ceil, next.ceil_bps, limit.ceil_bps);
  if (next.rate_bps < kMinShapeRate)
    return invalid(rate + " " + format_rate_bps(next.rate_bps) + " is below " + format_rate_bps(kMinShapeRate) +
                   ": HTB cannot shape that slowly");
  if (next.rate_bps > next.ceil_bps)
    return invalid(rate + " " + format_rate_bps(next.rate_bps) + " is above " + ceil + " " +
                   format_rate_bps(next.ceil_bps) + ": the guaranteed rate cannot exceed the maximum");
  return next;
}

}  // namespace netd::policy
