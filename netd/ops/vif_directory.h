// Which vifs a slice has: asked by RouteOps (a slice's own vifs are always its route devices)
// and SocketOps (an address of another slice's vif is not bound for a slice), answered by
// VifOps, which keeps the registry.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lib/core/net_types.h"
#include "netd/policy/policy.h"

namespace netd::ops {

class VifDirectory {
 public:
  virtual ~VifDirectory() = default;
  virtual std::vector<std::string> names_of(const policy::SliceSpec& s) const = 0;
  // The id of the slice whose vif has `address` (on the device, or being added to it); 0 if
  // no vif netd knows has it.
  virtual uint32_t slice_of_address(const IpAddress& address) = 0;
};

}  // namespace netd::ops
