// FakeHtbControl: HTB roots and classes per device in memory, refusing what HTB refuses where
// ShapeOps relies on it: a class under a missing parent or on a device without the HTB root
// (ENOENT), deleting a class that still has children (EBUSY), ceil below rate (EINVAL).
// Replacing or removing a root drops its classes; changing a class keeps its parent and
// counters, as the kernel does.
#pragma once

#include <map>
#include <optional>
#include <vector>

#include "netd/kernel/netlink/htb_control.h"
#include "tests/unit/ops/fakes/failure_plan.h"

namespace netd::testing {

class FakeHtbControl : public kernel::HtbControl {
 public:
  enum class Op { kEnsureRoot, kRemoveRoot, kSetClass, kRemoveClass, kSetLeafBfifo, kClasses, kFindClass };

  // The next call of `op` (or the one after `after` successful ones) fails with `code`.
  void fail_next(Op op, int code, int after = 0) { failures_.fail_next(op, code, after); }
  int calls(Op op) const { return failures_.calls(op); }

  struct Root {
    uint32_t major = 0;
    uint32_t default_minor = 0;
  };
  // The device's HTB root, if it has one.
  std::optional<Root> root(int ifindex) const;
  // The device's class `classid`, if it has it.
  std::optional<kernel::HtbClassState> find(int ifindex, uint32_t classid) const;

  Status ensure_root(int ifindex, uint32_t handle_major, uint32_t default_minor) override;
  Status remove_root(int ifindex, uint32_t handle_major) override;
  Status set_class(int ifindex, uint32_t classid, uint64_t rate_bps, uint64_t ceil_bps,
                   uint32_t parent_classid = 0) override;
  Status remove_class(int ifindex, uint32_t classid) override;
  // The class's leaf_limit_bytes; ENOENT for a missing class, EINVAL for limit 0.
  Status set_leaf_bfifo(int ifindex, uint32_t classid, uint32_t limit_bytes) override;
  Result<std::vector<kernel::HtbClassState>> classes(int ifindex) override;
  Result<std::optional<kernel::HtbClassState>> find_class(int ifindex, uint32_t classid) override;

 private:
  struct Device {
    Root root;
    std::map<uint32_t, kernel::HtbClassState> classes;  // by classid
  };
  std::map<int, Device> devices_;  // by ifindex; only those with an HTB root
  FailurePlan<Op> failures_;
};

}  // namespace netd::testing
