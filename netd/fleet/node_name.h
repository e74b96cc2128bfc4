// This host's name in the fleet's keys: [netd] node_name, or the host name when omitted.
#pragma once

#include <string>

#include "lib/core/result.h"
#include "netd/policy/policy.h"

namespace netd::fleet {

// node_name as validated, else uname's nodename, which must then be a valid node name too (a
// host named "localhost.(none)" or with a '/' cannot be told apart in <prefix>nodes/): EINVAL
// saying to set node_name.
Result<std::string> fleet_node_name(const policy::DaemonSettings& settings);

}  // namespace netd::fleet
