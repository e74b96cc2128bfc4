// Shaping as policy sees it, pure: which HTB classes every uplink gets,
// which mark goes to which class, and what a slice's own `shape set` may change. No syscalls.
//
// The tree on every uplink while some slice is shaped (shapes_egress), the same everywhere
// (handle 4e44:, "ND"):
//   4e44:      HTB root qdisc, default class 4e44:fffe
//   4e44:ffff  top class, rate = ceil = [netd] uplink_rate (slices borrow from it)
//   4e44:fffe  default class: unmarked traffic and unshaped slices; guaranteed what the
//              slices are not (at least 1 % of uplink_rate), may borrow up to uplink_rate
//   4e44:<id>  one class per shaped slice, rate/ceil from the policy or the slice's own
//              lower values; tc prints the minor in hex (slice 10 is 4e44:a)
//
// Two directions share that layout. Egress (rate/ceil, uplink_rate) is the tree on the uplink
// itself. Ingress (rate_in/ceil_in, uplink_rate_in) is the same tree on the IFB device netd
// redirects the uplink's arriving packets into; it exists only when some slice has a rate_in
// (shapes_ingress), and its leaves get a byte-limited FIFO (ShapeClassPlan::leaf_limit_bytes).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lib/core/result.h"
#include "netd/policy/policy.h"

namespace netd::policy {

constexpr uint32_t kShapeHtbMajor = 0x4e44;
constexpr uint32_t kShapeTopMinor = 0xffff;
constexpr uint32_t kShapeDefaultMinor = 0xfffe;
// Slice ids from here up have no class minor of their own (the minor is 16 bits).
constexpr uint32_t kFirstReservedShapeMinor = 0xfffe;
// Below this HTB's token arithmetic is meaningless (and no link is that slow).
constexpr uint64_t kMinShapeRate = 8000;

constexpr uint32_t shape_classid(uint32_t minor) { return kShapeHtbMajor << 16 | minor; }

// Egress: what slices send out of the uplinks (rate, ceil, uplink_rate). Ingress: what they
// receive on them (rate_in, ceil_in, uplink_rate_in).
enum class ShapeDirection { kEgress, kIngress };

// The bounds of an ingress leaf's byte limit (see ingress_leaf_limit_bytes).
constexpr uint32_t kMinIngressLeafBytes = 128u << 10;
constexpr uint32_t kMaxIngressLeafBytes = 32u << 20;

struct ShapeLimits {
  uint64_t rate_bps = 0;
  uint64_t ceil_bps = 0;
  friend bool operator==(const ShapeLimits&, const ShapeLimits&) = default;
};

// What the policy gives the slice in `dir` (ceil = rate when the file omits it). {0, 0}:
// unshaped in that direction.
ShapeLimits policy_limits(const SliceSpec& s, ShapeDirection dir = ShapeDirection::kEgress);
// Whether `own` is something the slice may have set for itself in `dir`: shaped in `dir`,
// rate ≥ the minimum, rate ≤ ceil, and neither above the policy's value.
bool within_policy(const SliceSpec& s, const ShapeLimits& own, ShapeDirection dir = ShapeDirection::kEgress);
// The limits in force in `dir`: the slice's own (if any and still within policy) or the
// policy's. `own` holds the slice's own limits of that direction only.
ShapeLimits effective_limits(const SliceSpec& s, const std::map<std::string, ShapeLimits>& own,
                             ShapeDirection dir = ShapeDirection::kEgress);

// Whether the uplinks get an egress tree at all: some slice has a rate. Until one has, the
// uplinks keep their own qdisc and no classifier runs on them: an HTB root costs every packet
// of the device (one queue and its lock) and guarantees nothing while no slice is shaped.
bool shapes_egress(const Policy& p);
// Whether the uplinks get an ingress tree at all: some slice has a rate_in.
bool shapes_ingress(const Policy& p);

// The byte limit of an ingress leaf class guaranteed `rate_bps`: 100 ms of it, within
// [kMinIngressLeafBytes, kMaxIngressLeafBytes].
uint32_t ingress_leaf_limit_bytes(uint64_t rate_bps);

struct ShapeClassPlan {
  uint32_t classid = 0;
  uint32_t parent_classid = 0;  // 0: directly under the root qdisc
  uint64_t rate_bps = 0;
  uint64_t ceil_bps = 0;
  uint32_t slice_id = 0;  // 0 for the top and default classes
  // The leaf qdisc's limit in bytes (a bfifo); 0: the kernel's default leaf (egress, and the
  // top class, which is no leaf).
  uint32_t leaf_limit_bytes = 0;
  friend bool operator==(const ShapeClassPlan&, const ShapeClassPlan&) = default;
};

struct UplinkShapePlan {
  // Parents before children: the top class, the default class, then slices by id.
  std::vector<ShapeClassPlan> classes;
  // The classifier map: slice mark → classid; mark 0 → the default class.
  std::map<uint32_t, uint32_t> class_of_mark;
  // What the slices' classes are guaranteed in all (the default class gets the rest), kept so
  // one slice's new limits can be planned without a walk of every slice (relimit_slice).
  uint64_t guaranteed_bps = 0;
};

// The tree every uplink gets under `p` in `dir`, with the slices' own limits of that
// direction (keyed by slice name; entries not within policy are ignored).
UplinkShapePlan plan_shaping(const Policy& p, const std::map<std::string, ShapeLimits>& own,
                             ShapeDirection dir = ShapeDirection::kEgress);

// The plan after one slice's limits in `dir` became `limits` (rate and ceil within policy, as
// decide_shape_set gives them), changed in place: that slice's class and the default class,
// whose guarantee is what the slices' are not. Returns the classes whose values changed,
// parents first, as they now are; none if the plan has no class `classid` (a slice unshaped
// in `dir`, or with an id above the class minors). Equal to plan_shaping with the new limits.
std::vector<ShapeClassPlan> relimit_slice(UplinkShapePlan& plan, uint32_t classid, const ShapeLimits& limits,
                                          ShapeDirection dir = ShapeDirection::kEgress);

// What turns the classes of `before` into those of `after` on a device that holds `before`:
// the classes to set (new, or other values; parents first) and the classids to delete
// (leaves first). The classifier map is not compared: its own sync writes only what changed.
struct ShapePlanChanges {
  std::vector<ShapeClassPlan> set;
  std::vector<uint32_t> removed;
  bool empty() const { return set.empty() && removed.empty(); }
};
ShapePlanChanges diff_plans(const UplinkShapePlan& before, const UplinkShapePlan& after);

// `sliceip shape set`: absent fields keep nothing implicit, as in tc's htb: a rate without a
// ceil sets the ceil to that rate; a ceil alone keeps the rate (lowered to the ceil if above
// it); neither restores the policy's values.
struct ShapeSetRequest {
  std::optional<uint64_t> rate_bps;
  std::optional<uint64_t> ceil_bps;
};

// The slice's new limits in `dir`, or why not (EPERM: unshaped in `dir`, or above the
// policy's value; EINVAL: below the minimum, or rate above ceil). Messages name the
// direction's policy keys (rate/ceil, rate_in/ceil_in).
Result<ShapeLimits> decide_shape_set(const SliceSpec& s, const ShapeLimits& current, const ShapeSetRequest& req,
                                     ShapeDirection dir = ShapeDirection::kEgress);

}  // namespace netd::policy
