// Options netd sets on a socket a slice's member passed it (io.netd.SocketOps): what the socket
// is (its owner and mark), and setting an option that needs netd's CAP_NET_ADMIN, with what the
// kernel then reads back. The socket stays the caller's: the file description is shared, netd
// closes its copy when the request is done.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "lib/core/result.h"

namespace netd::kernel {

struct PassedSocketFacts {
  uid_t owner = 0;    // the socket inode's owner: the uid that created it
  uint32_t mark = 0;  // SO_MARK
  int domain = 0;     // SO_DOMAIN
  int type = 0;       // SO_TYPE
  uint64_t netns_cookie = 0;  // SO_NETNS_COOKIE: the netns it was made in
  int protocol = 0;   // SO_PROTOCOL
};

// ENOTSOCK when `fd` is no socket.
Result<PassedSocketFacts> inspect_passed_socket(int fd);

// setsockopt(SOL_SOCKET, set_option, value), then getsockopt(SOL_SOCKET, read_option): e.g.
// SO_RCVBUFFORCE then SO_RCVBUF (the kernel keeps twice the size asked for). `name` is for errors.
Result<int> set_socket_option(int fd, int set_option, int read_option, int value, const char* name);

}  // namespace netd::kernel
