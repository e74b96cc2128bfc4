// io.netd.SocketOps: options a slice's member may not set itself, and binds of the slice's
// reserved ports, done by netd on the member's own socket (passed as the call's one fd) within
// the slice's policy. The policy decides whose socket it is and what may be done
// (socket_ops_decision); the kernel executors do it.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>

#include <vector>

#include "lib/core/result.h"
#include "lib/core/unique_fd.h"
#include "lib/varlink/api/socketops.h"
#include "netd/ops/vif_directory.h"
#include "netd/policy/policy.h"

namespace netd::ops {

class SocketOps {
 public:
  // `vifs` tells which slice's vif an address is on.
  explicit SocketOps(VifDirectory& vifs) : vifs_(vifs) {}

  // uid: the caller's (SO_PEERCRED), the only owner whose sockets are changed. fds: what the
  // call passed; exactly one socket.
  Result<nlohmann::json> set_option(const policy::Policy& p, const policy::SliceSpec& s, uid_t uid,
                                    const std::vector<UniqueFd>& fds, const api::socketops::SetOptionIn& in);
  // Binds the one passed socket to in.address:in.port, a port of the slice's bind_ports.
  Result<nlohmann::json> bind(const policy::Policy& p, const policy::SliceSpec& s, uid_t uid,
                              const std::vector<UniqueFd>& fds, const api::socketops::BindIn& in);

 private:
  VifDirectory& vifs_;
};

}  // namespace netd::ops
