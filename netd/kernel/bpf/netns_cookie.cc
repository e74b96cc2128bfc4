#include "netd/kernel/bpf/netns_cookie.h"

#include <sys/socket.h>

#include <cerrno>

#include "lib/core/unique_fd.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71  // kernel >= 5.14
#endif

namespace netd::kernel {

// Any socket reports the netns it was created in; AF_UNIX runs no inet socket hooks.
Result<uint64_t> current_netns_cookie(const std::string& who) {
  UniqueFd sock(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) {
    int err = errno;  // before the message is built
    return errno_error(who + ": socket for SO_NETNS_COOKIE", err);
  }
  uint64_t cookie = 0;
  socklen_t len = sizeof cookie;
  if (::getsockopt(sock.get(), SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0) {
    int err = errno;
    return errno_error(who + ": reading the netns cookie (SO_NETNS_COOKIE)", err);
  }
  return cookie;
}

}  // namespace netd::kernel
