// Who is on the other end of a connection, as the kernel says (SO_PEERCRED, SO_PEERGROUPS).
#pragma once

#include <sys/types.h>

#include <vector>

#include "lib/core/result.h"

namespace netd::server {

struct Peer {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups
};

// Reads the credentials of a connected AF_UNIX socket's peer, as they were at connect().
Result<Peer> read_peer(int fd);

}  // namespace netd::server
