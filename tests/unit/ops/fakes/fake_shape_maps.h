// FakeShapeMaps: the shaping classifier and the store of own limits as pinned state in memory:
// which devices are classified, the mark → classid map, the own limits by slice. It outlives
// the ShapeOps that open it, as pins outlive netd: opener() gives each ShapeOps a handle over
// the same state, so a "restarted" ShapeOps adopts what the previous one left.
#pragma once

#include <map>
#include <set>
#include <string>

#include "netd/kernel/bpf/shape_maps.h"
#include "tests/unit/ops/fakes/failure_plan.h"

namespace netd::testing {

class FakeShapeMaps : public kernel::ShapeMaps {
 public:
  enum class Op {
    kOpen,
    kAttach,
    kDetach,
    kAttached,
    kSyncClasses,
    kAttachIngress,
    kDetachIngress,
    kAttachedIngress,
    kSyncIngressClasses,
    kReadLimits,
    kPutLimits,
    kEraseLimits
  };

  // The next call of `op` (or the one after `after` successful ones) fails with `code`.
  void fail_next(Op op, int code, int after = 0) { failures_.fail_next(op, code, after); }
  int calls(Op op) const { return failures_.calls(op); }

  // For ShapeOps's constructor: opens a handle over this state (kOpen can be made to fail).
  kernel::ShapeMapsOpener opener();

  // The pinned state, for tests to read and to preset.
  std::set<int> attached_devices;
  std::map<uint32_t, uint32_t> class_of_mark;
  std::map<int, int> ifb_of_uplink;  // the ingress classifier's links: uplink → IFB
  std::map<uint32_t, uint32_t> ingress_class_of_mark;
  std::map<std::string, kernel::OwnShapeLimits> limits;     // uploads
  std::map<std::string, kernel::OwnShapeLimits> limits_in;  // downloads

  Status attach(int ifindex) override;
  Status detach(int ifindex) override;
  Result<std::vector<int>> attached() const override;
  Status sync_classes(const std::map<uint32_t, uint32_t>& classes) override;
  Status attach_ingress(int uplink_ifindex, int ifb_ifindex) override;
  Status detach_ingress(int uplink_ifindex) override;
  Result<std::vector<int>> attached_ingress() const override;
  Status sync_ingress_classes(const std::map<uint32_t, uint32_t>& classes) override;
  Result<std::map<std::string, kernel::OwnShapeLimits>> read_limits(bool ingress) const override;
  Status put_limits(bool ingress, const std::string& slice, const kernel::OwnShapeLimits& l) override;
  Status erase_limits(bool ingress, const std::string& slice) override;

 private:
  // const methods count their calls too.
  mutable FailurePlan<Op> failures_;
};

}  // namespace netd::testing
