// The cookie of the netns netd runs in: the programs that must act only on netd's own netns
// (VifGuard's, FlowRecorder's) are loaded with it as rodata, because ifindexes, addresses and
// ports mean something only within one netns.
#pragma once

#include <cstdint>
#include <string>

#include "lib/core/result.h"

namespace netd::kernel {

// SO_NETNS_COOKIE of a fresh socket (kernel >= 5.14). `who` prefixes the error ("vifs", "raw").
Result<uint64_t> current_netns_cookie(const std::string& who);

}  // namespace netd::kernel
