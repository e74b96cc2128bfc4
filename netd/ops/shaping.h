// io.netd.Shaping and the uplinks' shaping state, both directions: while some slice has a
// rate, every uplink of the policy gets the HTB tree of policy/shape_plan.h and netd's egress
// classifier (with none, the uplinks keep their own qdisc); while some slice has download shaping, every uplink also gets an IFB device of netd's own carrying the ingress
// tree, and netd's ingress classifier on the uplink redirects arriving packets there. The
// classifiers' mark → class maps follow the policy and the slices' own limits. Reconciling
// adopts what a previous netd left (roots, classes, IFBs, pinned links and maps are changed in
// place, counters survive) and removes what the policy no longer wants: classes of removed or
// unshaped slices, the trees and classifiers of devices that are no uplinks any more (and of
// every uplink once no slice is shaped on the way out), and the IFBs once no slice is shaped
// on the way in.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "lib/core/result.h"
#include "lib/varlink/api/shaping.h"
#include "netd/kernel/bpf/shape_maps.h"
#include "netd/kernel/netlink/htb_control.h"
#include "netd/kernel/netlink/ifb_control.h"
#include "netd/kernel/netlink/link_view.h"
#include "netd/ops/teardown_report.h"
#include "netd/policy/policy.h"
#include "netd/policy/shape_plan.h"

namespace netd::ops {

class ShapeOps {
 public:
  // `open_maps` opens the classifier and the store of own limits under the policy's bpffs
  // directory on first use (tests give in-memory ones).
  ShapeOps(kernel::HtbControl& htb, kernel::IfbControl& ifbs, kernel::LinkView& links,
           kernel::ShapeMapsOpener open_maps = kernel::open_shape_maps)
      : htb_(htb), ifbs_(ifbs), links_(links), open_maps_(std::move(open_maps)) {}

  // Brings every uplink that exists in line with `p` (opening the classifier and the store
  // of own limits on first use). Own limits of slices that are gone, unshaped or no longer
  // within their policy values are forgotten. While netd knows what its trees hold (the last
  // reconcile and the sets since succeeded, on the same devices) only the classes that differ
  // are sent, with no dump of the trees; `read_kernel` (start, undoing a refused reload, a
  // resync) or any failure of that path reads and mends every tree instead.
  Status reconcile(const policy::Policy& p, bool read_kernel = false);
  // An uplink that appeared (or came back with a new index) gets its trees and classifiers;
  // one of netd's IFBs that someone deleted is made again (the uplink's ingress program
  // would otherwise redirect downloads to a device that is gone, which drops them).
  Status on_link_event(const policy::Policy& p, const kernel::LinkEvent& event);

  Result<nlohmann::json> show(const policy::Policy& p, const policy::SliceSpec& s);
  Result<nlohmann::json> set(const policy::Policy& p, const policy::SliceSpec& s, const api::shaping::SetIn& in);

  // --teardown: the HTB roots netd made (on the devices it classified and the policy's
  // uplinks), its IFBs, the classifiers' links and the shaping pins; names each one that stays.
  static TeardownReport teardown(kernel::HtbControl& htb, kernel::IfbControl& ifbs, kernel::LinkView& links,
                                 const policy::Policy& p);

 private:
  using Direction = policy::ShapeDirection;
  using OwnLimits = std::map<std::string, kernel::OwnShapeLimits>;

  Status open(const policy::Policy& p);
  // Forgets the own limits of slices that are gone, or whose limits are no longer within policy.
  Status forget_stale_limits(const policy::Policy& p, Direction d);
  // The egress side of reconcile, then the ingress side (the IFBs, their trees, the classifier).
  Status reconcile_egress(const policy::Policy& p, const std::map<std::string, int>& uplinks, bool read_kernel);
  Status reconcile_ingress(const policy::Policy& p, const std::map<std::string, int>& uplinks, bool read_kernel);
  // The trees of each direction after a reading of the kernel: every class checked, the
  // classifier attached, the devices no longer shaped cleared.
  Status rebuild_egress(const policy::UplinkShapePlan& plan, const std::map<std::string, int>& uplinks);
  Status rebuild_ingress(const policy::Policy& p, const policy::UplinkShapePlan& plan,
                         const std::map<std::string, int>& uplinks, std::map<int, int>& ifb_of);
  // From what netd knows the trees of `d` hold to `plan`: the changed classes on every device,
  // the classifier map, then the classes `plan` no longer has. Nothing is read.
  Status update_trees(Direction d, const policy::UplinkShapePlan& plan);
  // The slice's class (and the default class) at `limits` on every tree of `d`, from memory.
  Status relimit(Direction d, const policy::SliceSpec& s, const policy::ShapeLimits& limits);
  // Classes of `plan` on the device (parents first), with their bfifo leaves where the plan
  // wants them. Returns the classes the device had before.
  Result<std::vector<kernel::HtbClassState>> build_tree(int ifindex, const policy::UplinkShapePlan& plan);
  // Deletes those of `existing` that `plan` does not have (after the map stopped naming them).
  Status prune_tree(int ifindex, const policy::UplinkShapePlan& plan, std::vector<kernel::HtbClassState> existing);
  std::map<std::string, int> uplink_indexes(const policy::Policy& p);
  // Removes netd's IFBs other than those in `wanted` (IFB ifindexes). The link cache (and
  // ensured_, for IFBs made before the cache heard of them) tells whether any device named
  // like one is there; only then is the kernel asked which are IFBs.
  Status remove_stray_ifbs(const std::set<int>& wanted);
  std::map<std::string, policy::ShapeLimits> own_limits(Direction d) const;
  OwnLimits& own(Direction d) { return own_[d == Direction::kIngress]; }
  const OwnLimits& own(Direction d) const { return own_[d == Direction::kIngress]; }
  // One direction of Show: the slice's limits and its class on every tree of that direction.
  Result<nlohmann::json> show_direction(const policy::Policy& p, const policy::SliceSpec& s, Direction d);

  kernel::HtbControl& htb_;
  kernel::IfbControl& ifbs_;
  kernel::LinkView& links_;
  kernel::ShapeMapsOpener open_maps_;
  std::unique_ptr<kernel::ShapeMaps> maps_;  // null until open()
  std::array<OwnLimits, 2> own_;             // what maps_'s stores hold: [0] uploads, [1] downloads
  std::set<int> ensured_;                    // IFB ifindexes ensure() gave since the last stray removal
  // What netd's trees of each direction hold as far as it knows: the plan they were last
  // brought to, on which devices (uplink ifindex → the device with the tree: the uplink
  // itself, or its IFB). Unset until a reconcile read the kernel, and after any failure.
  struct KnownTrees {
    policy::UplinkShapePlan plan;
    std::map<int, int> device_of;
  };
  std::array<std::optional<KnownTrees>, 2> known_;
  std::optional<KnownTrees>& known(Direction d) { return known_[d == Direction::kIngress]; }
};

}  // namespace netd::ops
