// Which vifs a slice has: asked by RouteOps (a slice's own vifs are always its route devices),
// answered by VifOps, which keeps the registry.
#pragma once

#include <string>
#include <vector>

#include "netd/policy/policy.h"

namespace netd::ops {

class VifDirectory {
 public:
  virtual ~VifDirectory() = default;
  virtual std::vector<std::string> names_of(const policy::SliceSpec& s) const = 0;
};

}  // namespace netd::ops
