#include "netd/kernel/sockets/socket_bind.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "netd/kernel/caps/privileges.h"

namespace netd::kernel {

std::string address_port_text(const IpAddress& address, uint16_t port) {
  const std::string a = address.to_string();
  return (address.is_v4() ? a : "[" + a + "]") + ":" + std::to_string(port);
}

Status bind_passed_socket(int fd, uint32_t mark, const IpAddress& address, uint16_t port) {
  const std::string where = address_port_text(address, port);
  if (mark != 0 && ::setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) < 0)
    return errno_error("giving the socket its slice's mark before binding " + where);
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (address.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, address.bytes(), 4);
    len = sizeof *sin;
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    std::memcpy(&sin6->sin6_addr, address.bytes(), 16);
    len = sizeof *sin6;
  }
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&ss), len) == 0) return ok_status();
  const int err = errno;
  if (mark != 0) {
    const uint32_t none = 0;
    if (::setsockopt(fd, SOL_SOCKET, SO_MARK, &none, sizeof none) < 0)
      return errno_error("binding " + where + " failed (" + std::strerror(err) +
                         "); putting the socket's mark back to 0 failed, it keeps the slice's");
  }
  Error e = errno_error("binding " + where, err);
  if (err == EACCES) e.message += lacking_capability_hint(CAP_NET_BIND_SERVICE);
  return e;
}

}  // namespace netd::kernel
