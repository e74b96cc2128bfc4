// Writing network sysctls (/proc/sys/net/...). /proc/sys/net shows the network namespace of
// the process that opens the file, so these act on netd's own netns.
#pragma once

#include <string>

#include "lib/core/result.h"

namespace netd::kernel {

// key in sysctl(8) form with '/' separators for device names that contain dots:
// "net/ipv4/conf/tap7-0/forwarding".
Status write_sysctl(const std::string& key, const std::string& value);

}  // namespace netd::kernel
