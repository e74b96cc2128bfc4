#include "netd/ops/identity.h"

namespace netd::ops {

Result<const policy::SliceSpec*> slice_of(const policy::Policy& policy, const server::Peer& peer) {
  const policy::SliceSpec* slice = policy.find_member(peer.uid, peer.gid, peer.groups);
  if (slice == nullptr)
    return make_error(EPERM, "uid " + std::to_string(peer.uid) + " is not a member of any slice",
                      ErrorKind::kNotMember);
  return slice;
}

}  // namespace netd::ops
