// A change to a u32 → u32 BPF map given as what changes, not as the whole map: a reload that
// adds one slice at 4096 slices sets that slice's keys and leaves the others alone.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

namespace netd::kernel {

struct U32MapChanges {
  std::map<uint32_t, uint32_t> set;  // added, or given another value
  std::vector<uint32_t> unset;       // deleted, unless `set` has them too
  bool empty() const { return set.empty() && unset.empty(); }
};

}  // namespace netd::kernel
