// Peer credentials → slice. Identity comes only from the kernel (SO_PEERCRED), never the request.
#pragma once

#include "lib/core/result.h"
#include "netd/policy/policy.h"
#include "netd/server/peer.h"

namespace netd::ops {

// The caller's slice, or NotMember ("uid 1003 is not a member of any slice").
Result<const policy::SliceSpec*> slice_of(const policy::Policy& policy, const server::Peer& peer);

}  // namespace netd::ops
