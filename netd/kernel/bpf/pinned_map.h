// Maps that outlive netd: pinned in bpffs after the first load, reused by later loads so
// their contents (and the programs already using them) carry over a restart.
#pragma once

#include <bpf/libbpf.h>

#include <string>

#include "lib/core/result.h"

namespace netd::kernel {

// Before load: makes the object's `map` reuse the map pinned at `pin` if that one has the
// same type and layout. Returns whether the map must be pinned after load (nothing usable
// was pinned; an older netd's map with another layout is replaced, and sync refills it).
Result<bool> adopt_map(struct bpf_map* map, const std::string& pin);

// After load: pins the freshly created `map` at `pin`, replacing an incompatible pin
// atomically (pin beside, rename over) so the path never points at nothing.
Status pin_map(struct bpf_map* map, const std::string& pin);

}  // namespace netd::kernel
