// What VifOps tells the isolation layer: every vif netd knows, each time one is made, changed or
// gone. Implemented by ops::Isolation; an interface so VifOps does not own the kernel state.
#pragma once

#include <string>
#include <vector>

#include "lib/core/net_types.h"
#include "lib/core/result.h"
#include "netd/policy/policy.h"
#include "netd/policy/slice_diff.h"

namespace netd::ops {

// What isolation needs to know about one vif.
struct GuardedVif {
  std::string name;
  int ifindex = 0;
  uint32_t slice_id = 0;
  std::vector<IpAddress> addresses;  // on the device or being added to it
};

class IsolationSink {
 public:
  virtual ~IsolationSink() = default;
  // Makes the isolation match `vifs` under policy `p` (every vif netd knows, each time).
  virtual Status publish(const policy::Policy& p, const std::vector<GuardedVif>& vifs) = 0;
  // A reload that kept every vif: the same as publish(p, the vifs last published), at the cost
  // of the slices `diff` names when it can be.
  virtual Status publish_slices(const policy::Policy& p, const policy::SliceDiff& diff) = 0;
};

}  // namespace netd::ops
