#include "netd/policy/shape_plan.h"

#include <algorithm>
#include <cerrno>

#include "lib/core/errors.h"

namespace netd::policy {

ShapeLimits policy_limits(const SliceSpec& s) {
  if (s.rate_bps == 0) return {};
  return {s.rate_bps, s.ceil_bps != 0 ? s.ceil_bps : s.rate_bps};
}

bool within_policy(const SliceSpec& s, const ShapeLimits& own) {
  ShapeLimits limit = policy_limits(s);
  return limit.rate_bps != 0 && own.rate_bps >= kMinShapeRate && own.rate_bps <= own.ceil_bps &&
         own.rate_bps <= limit.rate_bps && own.ceil_bps <= limit.ceil_bps;
}

ShapeLimits effective_limits(const SliceSpec& s, const std::map<std::string, ShapeLimits>& own) {
  auto it = own.find(s.name);
  if (it != own.end() && within_policy(s, it->second)) return it->second;
  return policy_limits(s);
}

UplinkShapePlan plan_shaping(const Policy& p, const std::map<std::string, ShapeLimits>& own) {
  const uint64_t uplink = p.netd.uplink_rate_bps;
  const uint32_t top = shape_classid(kShapeTopMinor);
  const uint32_t fallback = shape_classid(kShapeDefaultMinor);
  UplinkShapePlan plan;
  std::vector<const SliceSpec*> shaped;
  uint64_t guaranteed = 0;
  for (const auto& s : p.slices) {
    if (s.rate_bps == 0 || s.id >= kFirstReservedShapeMinor) continue;
    shaped.push_back(&s);
    guaranteed += effective_limits(s, own).rate_bps;
  }
  std::sort(shaped.begin(), shaped.end(), [](const SliceSpec* a, const SliceSpec* b) { return a->id < b->id; });
  // What the slices are not guaranteed belongs to unmarked traffic, but never less than 1 %:
  // an overbooked uplink must still carry the host's own traffic.
  uint64_t floor = std::max<uint64_t>(uplink / 100, kMinShapeRate);
  uint64_t default_rate = guaranteed < uplink ? std::max(uplink - guaranteed, floor) : floor;
  plan.classes.push_back({top, 0, uplink, uplink, 0});
  plan.classes.push_back({fallback, top, default_rate, uplink, 0});
  plan.class_of_mark[0] = fallback;
  for (const SliceSpec* s : shaped) {
    ShapeLimits limits = effective_limits(*s, own);
    plan.classes.push_back({shape_classid(s->id), top, limits.rate_bps, limits.ceil_bps, s->id});
    plan.class_of_mark[p.mark_of(*s)] = shape_classid(s->id);
  }
  return plan;
}

Result<ShapeLimits> decide_shape_set(const SliceSpec& s, const ShapeLimits& current, const ShapeSetRequest& req) {
  const ShapeLimits limit = policy_limits(s);
  if (limit.rate_bps == 0)
    return refused("slice " + s.name + " is not shaped by the policy (it has no rate): there is nothing to lower or "
                   "restore");
  if (!req.rate_bps && !req.ceil_bps) return limit;
  ShapeLimits next = current;
  if (req.rate_bps) {
    next.rate_bps = *req.rate_bps;
    next.ceil_bps = req.ceil_bps ? *req.ceil_bps : *req.rate_bps;
  } else {
    next.ceil_bps = *req.ceil_bps;
    next.rate_bps = std::min(current.rate_bps, next.ceil_bps);
  }
  auto above = [&](const char* what, uint64_t asked, uint64_t allowed) {
    return refused(std::string(what) + " " + format_rate_bps(asked) + " is above slice " + s.name + "'s policy " +
                   what + " " + format_rate_bps(allowed) + ": a slice may lower its rates, never raise them");
  };
  if (next.rate_bps > limit.rate_bps) return above("rate", next.rate_bps, limit.rate_bps);
  if (next.ceil_bps > limit.ceil_bps) return above("ceil", next.ceil_bps, limit.ceil_bps);
  if (next.rate_bps < kMinShapeRate)
    return invalid("rate " + format_rate_bps(next.rate_bps) + " is below " + format_rate_bps(kMinShapeRate) +
                   ": HTB cannot shape that slowly");
  if (next.rate_bps > next.ceil_bps)
    return invalid("rate " + format_rate_bps(next.rate_bps) + " is above ceil " + format_rate_bps(next.ceil_bps) +
                   ": the guaranteed rate cannot exceed the maximum");
  return next;
}

}  // namespace netd::policy
