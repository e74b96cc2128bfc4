// io.netd.Shaping and the uplinks' shaping state: every uplink of the policy gets the HTB
// tree of policy/shape_plan.h and netd's egress classifier; the classifier's mark → class
// map follows the policy and the slices' own limits. Reconciling adopts what a previous netd
// left (the root, classes, pinned links and map are changed in place, counters survive) and
// removes what the policy no longer wants: classes of removed or unshaped slices, and the
// tree and classifier of devices that are no uplinks any more.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "lib/core/result.h"
#include "lib/varlink/api/shaping.h"
#include "netd/kernel/bpf/shape_maps.h"
#include "netd/kernel/netlink/htb_control.h"
#include "netd/kernel/netlink/link_view.h"
#include "netd/ops/teardown_report.h"
#include "netd/policy/policy.h"
#include "netd/policy/shape_plan.h"

namespace netd::ops {

class ShapeOps {
 public:
  // `open_maps` opens the classifier and the store of own limits under the policy's bpffs
  // directory on first use (tests give in-memory ones).
  ShapeOps(kernel::HtbControl& htb, kernel::LinkView& links,
           kernel::ShapeMapsOpener open_maps = kernel::open_shape_maps)
      : htb_(htb), links_(links), open_maps_(std::move(open_maps)) {}

  // Brings every uplink that exists in line with `p` (opening the classifier and the store
  // of own limits on first use). Own limits of slices that are gone, unshaped or no longer
  // within their policy values are forgotten.
  Status reconcile(const policy::Policy& p);
  // An uplink that appeared (or came back with a new index) gets its tree and classifier.
  Status on_link_event(const policy::Policy& p, const kernel::LinkEvent& event);

  Result<nlohmann::json> show(const policy::Policy& p, const policy::SliceSpec& s);
  Result<nlohmann::json> set(const policy::Policy& p, const policy::SliceSpec& s, const api::shaping::SetIn& in);

  // --teardown: the HTB roots netd made (on the devices it classified and the policy's
  // uplinks), the classifier's links and the shaping pins; names each one that stays.
  static TeardownReport teardown(kernel::HtbControl& htb, kernel::LinkView& links, const policy::Policy& p);

 private:
  Status open(const policy::Policy& p);
  // Classes of `plan` on the device (parents first), then the classifier on its egress.
  // Returns the classes the device had before.
  Result<std::vector<kernel::HtbClassState>> build_tree(int ifindex, const policy::UplinkShapePlan& plan);
  // Deletes those of `existing` that `plan` does not have (after the map stopped naming them).
  Status prune_tree(int ifindex, const policy::UplinkShapePlan& plan, std::vector<kernel::HtbClassState> existing);
  std::map<std::string, int> uplink_indexes(const policy::Policy& p);
  std::map<std::string, policy::ShapeLimits> own_limits() const;

  kernel::HtbControl& htb_;
  kernel::LinkView& links_;
  kernel::ShapeMapsOpener open_maps_;
  std::unique_ptr<kernel::ShapeMaps> maps_;            // null until open()
  std::map<std::string, kernel::OwnShapeLimits> own_;  // what maps_'s store holds
};

}  // namespace netd::ops
