#include "netd/policy/shape_plan.h"

#include <algorithm>
#include <cerrno>

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
  auto leaf_limit = [&](uint64_t rate_bps) -> uint32_t {
    return ingress(dir) ? ingress_leaf_limit_bytes(rate_bps) : 0;
  };
  UplinkShapePlan plan;
  std::vector<const SliceSpec*> shaped;
  uint64_t guaranteed = 0;
  for (const auto& s : p.slices) {
    if (written(s, dir).rate_bps == 0 || s.id >= kFirstReservedShapeMinor) continue;
    shaped.push_back(&s);
    guaranteed += effective_limits(s, own, dir).rate_bps;
  }
  std::sort(shaped.begin(), shaped.end(), [](const SliceSpec* a, const SliceSpec* b) { return a->id < b->id; });
  // What the slices are not guaranteed belongs to unmarked traffic, but never less than 1 %:
  // an overbooked uplink must still carry the host's own traffic.
  uint64_t floor = std::max<uint64_t>(uplink / 100, kMinShapeRate);
  uint64_t default_rate = guaranteed < uplink ? std::max(uplink - guaranteed, floor) : floor;
  plan.classes.push_back({top, 0, uplink, uplink, 0});
  plan.classes.push_back({fallback, top, default_rate, uplink, 0, leaf_limit(default_rate)});
  plan.class_of_mark[0] = fallback;
  for (const SliceSpec* s : shaped) {
    ShapeLimits limits = effective_limits(*s, own, dir);
    plan.classes.push_back(
        {shape_classid(s->id), top, limits.rate_bps, limits.ceil_bps, s->id, leaf_limit(limits.rate_bps)});
    plan.class_of_mark[p.mark_of(*s)] = shape_classid(s->id);
  }
  return plan;
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
