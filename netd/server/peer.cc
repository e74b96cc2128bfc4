#include "netd/server/peer.h"

#include <sys/socket.h>

namespace netd::server {

Result<Peer> read_peer(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return errno_error("SO_PEERCRED");
  Peer peer{cred.pid, cred.uid, cred.gid, {}};
  // SO_PEERGROUPS: ERANGE tells the size needed; a peer may have up to NGROUPS_MAX groups.
  std::vector<gid_t> groups(64);
  for (int attempt = 0; attempt < 3; ++attempt) {
    socklen_t bytes = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &bytes) == 0) {
      groups.resize(bytes / sizeof(gid_t));
      peer.groups = std::move(groups);
      return peer;
    }
    if (errno != ERANGE) return errno_error("SO_PEERGROUPS");
    groups.resize(bytes / sizeof(gid_t) + 1);
  }
  return make_error(ERANGE, "SO_PEERGROUPS: group list keeps growing");
}

}  // namespace netd::server
