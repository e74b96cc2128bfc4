// io.netd.SocketOps from the client side: socket options a slice's member may not set itself
// (they need CAP_NET_ADMIN), set by netd on the caller's own socket within the slice's policy.
// The socket is passed to netd with the call and changed in place; the caller keeps it.
#pragma once

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

}  // namespace netd
