// Binding a socket a slice's member passed netd (io.netd.SocketOps.Bind) with netd's
// CAP_NET_BIND_SERVICE: for a port the policy reserved for the slice, on a socket the cgroup
// bind hook does not judge (made outside the cgroup it is attached at).
#pragma once

#include <cstdint>
#include <string>

#include "lib/core/net_types.h"
#include "lib/core/result.h"

namespace netd::kernel {

// "10.0.1.1:80", "[::]:80": how errors name the bind.
std::string address_port_text(const IpAddress& address, uint16_t port);

// Gives the socket SO_MARK `mark` first unless it is 0 (an untagged socket becomes its slice's
// before it holds the port), then bind(). The kernel's refusal (EADDRINUSE, EADDRNOTAVAIL,
// EINVAL when bound already, EACCES) keeps its errno and names address:port; the mark is put
// back to 0 then, so a refused bind leaves the socket as it came.
Status bind_passed_socket(int fd, uint32_t mark, const IpAddress& address, uint16_t port);

}  // namespace netd::kernel
