#include "netd/kernel/sockets/socket_options.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <string>

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71  // kernel >= 5.14
#endif

namespace netd::kernel {

Result<PassedSocketFacts> inspect_passed_socket(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return errno_error("fstat of the passed fd");
  if (!S_ISSOCK(st.st_mode)) return make_error(ENOTSOCK, "the passed fd is not a socket");
  PassedSocketFacts facts;
  facts.owner = st.st_uid;
  socklen_t len = sizeof facts.mark;
  if (::getsockopt(fd, SOL_SOCKET, SO_MARK, &facts.mark, &len) < 0)
    return errno_error("reading SO_MARK of the passed socket");
  len = sizeof facts.domain;
  if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &facts.domain, &len) < 0)
    return errno_error("reading SO_DOMAIN of the passed socket");
  len = sizeof facts.type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &facts.type, &len) < 0)
    return errno_error("reading SO_TYPE of the passed socket");
  len = sizeof facts.protocol;
  if (::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &facts.protocol, &len) < 0)
    return errno_error("reading SO_PROTOCOL of the passed socket");
  len = sizeof facts.netns_cookie;
  if (::getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &facts.netns_cookie, &len) < 0)
    return errno_error("reading SO_NETNS_COOKIE of the passed socket");
  return facts;
}

Result<int> set_socket_option(int fd, int set_option, int read_option, int value, const char* name) {
  if (::setsockopt(fd, SOL_SOCKET, set_option, &value, sizeof value) < 0)
    return errno_error(std::string("setting ") + name + " " + std::to_string(value));
  int now = 0;
  socklen_t len = sizeof now;
  if (::getsockopt(fd, SOL_SOCKET, read_option, &now, &len) < 0)
    return errno_error(std::string("reading back ") + name);
  return now;
}

}  // namespace netd::kernel
