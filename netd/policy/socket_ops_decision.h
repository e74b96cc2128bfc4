// Pure decisions for io.netd.SocketOps: whose socket a passed fd is, and which option values a
// slice may set (policy max_sockbuf, max_priority). No syscalls: the operation layer reads the
// socket's facts (kernel/sockets/socket_options.h) and applies the verdict.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string_view>

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

}  // namespace netd::policy
