// Pure decisions for io.netd.SocketOps: whose socket a passed fd is, which option values a
// slice may set (policy max_sockbuf, max_priority), and which binds netd makes for it (policy
// bind_ports). No syscalls: the operation layer reads the
// socket's facts (kernel/sockets/socket_options.h) and applies the verdict.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string_view>

#include "lib/core/net_types.h"
#include "lib/core/result.h"
#include "netd/policy/policy.h"

namespace netd::policy {

enum class SocketOption : uint8_t { kRcvBufForce, kSndBufForce, kPriority };

const char* socket_option_name(SocketOption option);  // "rcvbufforce", "sndbufforce", "priority"
// The request's word, parsed where the request is read: anything else is InvalidArgument.
Result<SocketOption> parse_socket_option(std::string_view word);

// What the kernel says about a passed socket.
struct SocketFacts {
  uid_t owner = 0;    // the uid that created it (its inode's owner)
  uint32_t mark = 0;  // SO_MARK
  int domain = 0;     // SO_DOMAIN (AF_INET, ...)
  int type = 0;       // SO_TYPE (SOCK_STREAM, ...)
  uint64_t netns_cookie = 0;  // SO_NETNS_COOKIE: the netns it was made in
  int protocol = 0;   // SO_PROTOCOL (IPPROTO_TCP, ...)
};

// The socket is the caller's own: created by `caller` and carrying its slice's mark (the tagging
// program gives it at creation), or one netd made for the slice (owner root, the slice's raw
// socket mark). Anything else is PermissionDenied naming the owner or the mark: another uid's
// socket, even a member of the same slice's, is not the caller's to change.
Status decide_socket_owner(const Policy& policy, const SliceSpec& slice, uid_t caller, const SocketFacts& socket);

// The value to set: buffers 0..max_sockbuf bytes, priority 0..max_priority. Negative values are
// InvalidArgument; above the ceiling is PermissionDenied naming it
// ("rcvbufforce 67108864 is above slice alice's max_sockbuf (32MiB)").
Result<int> decide_socket_option(const SliceSpec& slice, SocketOption option, int64_t value);

// What io.netd.SocketOps.Bind asks for, parsed: an IP address (the wildcard included) and a
// port 1..65535. Anything else is InvalidArgument naming it.
struct BindRequest {
  IpAddress address;
  uint16_t port = 0;
};
Result<BindRequest> parse_bind_request(std::string_view address, int64_t port);

// The address whose owner matters: an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4
// address a.b.c.d, as the kernel treats it on an AF_INET6 socket; others are themselves.
IpAddress bind_lookup_address(const IpAddress& address);

// Whether netd binds `socket` for the caller: the socket is the caller's (decide_socket_owner),
// or the caller's untagged one (mark 0: made where the tagging program does not run, e.g.
// outside the cgroup it is attached at); a TCP or UDP socket (SOCK_STREAM + IPPROTO_TCP,
// SOCK_DGRAM + IPPROTO_UDP) of
// AF_INET or AF_INET6, else InvalidArgument with EOPNOTSUPP naming what it is; in netd's netns
// (`netd_netns`, a cookie); the address of the socket's family; the port in the slice's
// bind_ports ("port 8080 is not in slice alice's bind_ports (80, 5000-5010)"); the address the
// wildcard, or not one of another slice's vifs (`vif_owner`: the slice whose vif has
// bind_lookup_address(address), nullptr if none). Returns the mark netd gives the socket before
// it binds: the slice's for an untagged socket (so its traffic is the slice's, as a tagged
// socket's is), 0 to leave the mark as it is.
Result<uint32_t> decide_socket_bind(const Policy& policy, const SliceSpec& slice, uid_t caller,
                                    const SocketFacts& socket, uint64_t netd_netns, const BindRequest& request,
                                    const SliceSpec* vif_owner);

}  // namespace netd::policy
