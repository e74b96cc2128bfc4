#include "netd/kernel/sockets/socket_options.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <string>

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71  // kernel >= 5.14
#endif

namespace netd::kernel {

namespace {

template <typename T>
Status get_option(int fd, int option, const char* name, T* out) {
  socklen_t len = sizeof *out;
  if (::getsockopt(fd, SOL_SOCKET, option, out, &len) < 0)
    return errno_error(std::string("reading ") + name + " of the passed socket");
  return ok_status();
}

}  // namespace

Result<PassedSocketFacts> inspect_passed_socket(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return errno_error("fstat of the passed fd");
  if (!S_ISSOCK(st.st_mode)) return make_error(ENOTSOCK, "the passed fd is not a socket");
  PassedSocketFacts facts;
  facts.owner = st.st_uid;
  NETD_TRY(get_option(fd, SO_MARK, "SO_MARK", &facts.mark));
  NETD_TRY(get_option(fd, SO_DOMAIN, "SO_DOMAIN", &facts.domain));
  NETD_TRY(get_option(fd, SO_TYPE, "SO_TYPE", &facts.type));
  NETD_TRY(get_option(fd, SO_PROTOCOL, "SO_PROTOCOL", &facts.protocol));
  NETD_TRY(get_option(fd, SO_NETNS_COOKIE, "SO_NETNS_COOKIE", &facts.netns_cookie));
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
