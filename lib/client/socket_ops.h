// io.netd.SocketOps from the client side: socket options a slice's member may not set itself
// (they need CAP_NET_ADMIN), and binds of the slice's reserved ports, done by netd on the
// caller's own socket within the slice's policy. The socket is passed to netd with the call and
// changed in place; the caller keeps it.
#pragma once

#include <sys/socket.h>

#include <optional>
#include <string>

#include "lib/client/client.h"
#include "lib/core/result.h"

namespace netd {

// setsockopt(fd, SOL_SOCKET, option, &value, sizeof(int)) through netd: option SO_RCVBUFFORCE or
// SO_SNDBUFFORCE (bytes, up to the slice's max_sockbuf) or SO_PRIORITY (up to its max_priority).
// Returns what getsockopt reads back afterwards (SO_RCVBUF / SO_SNDBUF: twice the size asked for;
// SO_PRIORITY). Another option is ENOPROTOOPT before anything is sent; netd's refusals come back
// with its errno (EPERM above the ceiling or for a socket that is not the caller's).
Result<int> set_socket_option(Client& client, int fd, int option, int value);

// The IDL's word for an option (exposed for the C API and tests): SO_RCVBUFFORCE → "rcvbufforce",
// SO_SNDBUFFORCE → "sndbufforce", SO_PRIORITY → "priority", else nullopt.
std::optional<std::string> socket_option_word(int option);

// bind(fd, addr, len) through netd, for a port in the slice's bind_ports (the reserved ports
// below 1024 included) on a socket the kernel's cgroup bind hook does not judge: addr an
// AF_INET or AF_INET6 address (the wildcard, or an address not on another slice's vif). netd's
// refusals come back with its errno: EPERM for a port not in bind_ports or a socket not the
// caller's, EOPNOTSUPP for a socket that is not TCP or UDP, the kernel's (EADDRINUSE, ...).
Status bind_socket(Client& client, int fd, const sockaddr* addr, socklen_t len);

// The IDL's words for a sockaddr (exposed for the C API and tests): "10.0.1.1" and 80 for an
// AF_INET one, "::ffff:10.0.1.1" for an IPv4-mapped AF_INET6 one. EINVAL for a NULL or short
// address and for an IPv6 scope id (netd binds no link-local address), EAFNOSUPPORT for
// another family.
struct BindWords {
  std::string address;
  int port = 0;
};
Result<BindWords> bind_words(const sockaddr* addr, socklen_t len);

}  // namespace netd
