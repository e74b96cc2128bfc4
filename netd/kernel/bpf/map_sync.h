// Making a u32 → u32 BPF hash map's contents equal to a desired std::map.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "lib/core/result.h"

namespace netd::kernel {

// Adds/updates first, then deletes keys not desired, so a key that stays is never missing in
// between. `name` appears in errors.
Status sync_u32_map(int map_fd, const std::string& name, const std::map<uint32_t, uint32_t>& desired);

// The current contents (for tests and reconciliation).
Result<std::map<uint32_t, uint32_t>> read_u32_map(int map_fd, const std::string& name);

}  // namespace netd::kernel
