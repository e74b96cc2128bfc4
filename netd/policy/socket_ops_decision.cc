#include "netd/policy/socket_ops_decision.h"

#include <climits>
#include <string>

#include "lib/core/errors.h"
#include "lib/core/hex.h"
#include "netd/policy/raw_decision.h"
#include "netd/policy/validate.h"

namespace netd::policy {

const char* socket_option_name(SocketOption option) {
  switch (option) {
    case SocketOption::kRcvBufForce:
      return "rcvbufforce";
    case SocketOption::kSndBufForce:
      return "sndbufforce";
    case SocketOption::kPriority:
      return "priority";
  }
  return "?";
}

Result<SocketOption> parse_socket_option(std::string_view word) {
  for (SocketOption o : {SocketOption::kRcvBufForce, SocketOption::kSndBufForce, SocketOption::kPriority})
    if (word == socket_option_name(o)) return o;
  return invalid("option '" + echoed(word) + "' is not offered: rcvbufforce, sndbufforce or priority");
}

Status decide_socket_owner(const Policy& policy, const SliceSpec& slice, uid_t caller, const SocketFacts& socket) {
  // One netd handed to the slice: root's, with the slice's raw socket mark.
  if (socket.owner == 0 && socket.mark == raw_socket_mark(policy, slice)) return ok_status();
  if (socket.owner != caller)
    return refused("the socket belongs to uid " + std::to_string(socket.owner) + ", not to uid " +
                   std::to_string(caller) + ": only the caller's own sockets are changed");
  const uint32_t mark = socket.mark & policy.netd.mark_mask;
  if (mark != policy.mark_of(slice))
    return refused("the socket carries mark " + hex(mark) + ", not slice " + slice.name + "'s (" +
                   hex(policy.mark_of(slice)) + "): it was made outside the slice");
  return ok_status();
}

Result<int> decide_socket_option(const SliceSpec& slice, SocketOption option, int64_t value) {
  const char* name = socket_option_name(option);
  if (value < 0) return invalid(std::string(name) + " " + std::to_string(value) + " is negative");
  if (option == SocketOption::kPriority) {
    if (value > slice.max_priority)
      return refused("priority " + std::to_string(value) + " is above slice " + slice.name + "'s max_priority (" +
                     std::to_string(slice.max_priority) + ")");
    return static_cast<int>(value);
  }
  if (static_cast<uint64_t>(value) > slice.max_sockbuf)
    return refused(std::string(name) + " " + std::to_string(value) + " is above slice " + slice.name +
                   "'s max_sockbuf (" + format_size_bytes(slice.max_sockbuf) + ")");
  // The kernel takes an int (and max_sockbuf may be 2 GiB, one more than an int holds).
  if (value > INT_MAX)
    return invalid(std::string(name) + " " + std::to_string(value) + " is more than the kernel takes (" +
                   std::to_string(INT_MAX) + ")");
  return static_cast<int>(value);
}

}  // namespace netd::policy
