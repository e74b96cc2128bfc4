// io.netd.SocketOps: options a slice's member may not set itself, set by netd on the member's
// own socket (passed as the call's one fd) within the slice's policy. The policy decides whose
// socket it is and what value may be set (socket_ops_decision); the kernel executor sets it.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>

#include <vector>

#include "lib/core/result.h"
#include "lib/core/unique_fd.h"
#include "lib/varlink/api/socketops.h"
#include "netd/policy/policy.h"

namespace netd::ops {

class SocketOps {
 public:
  // uid: the caller's (SO_PEERCRED), the only owner whose sockets are changed. fds: what the
  // call passed; exactly one socket.
  Result<nlohmann::json> set_option(const policy::Policy& p, const policy::SliceSpec& s, uid_t uid,
                                    const std::vector<UniqueFd>& fds, const api::socketops::SetOptionIn& in);
};

}  // namespace netd::ops
