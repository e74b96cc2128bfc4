#include "tools/sliceip/exec/sockopt_answer.h"

#include <sys/socket.h>

#include <cerrno>

namespace sliceip::exec {

SockoptKind classify_sockopt(int level, int optname) {
  if (level != SOL_SOCKET) return SockoptKind::kOther;
  switch (optname) {
    case SO_ATTACH_FILTER:
    case SO_ATTACH_BPF:
      return SockoptKind::kAttachFilter;
    case SO_DETACH_FILTER:
      return SockoptKind::kDetachFilter;
    case SO_RCVBUFFORCE:
    case SO_SNDBUFFORCE:
      return SockoptKind::kForcedBuffer;
    default:
      return SockoptKind::kOther;
  }
}

int filter_call_errno(SockoptKind kind, bool locked, uint64_t optlen) {
  if (!locked || optlen < sizeof(int)) return 0;
  if (kind == SockoptKind::kAttachFilter) return ENOPROTOOPT;
  if (kind == SockoptKind::kDetachFilter) return ENOENT;
  return 0;
}

bool forced_buffer_value_readable(uint64_t optlen) { return optlen >= sizeof(int); }

std::string describe_sockopt_call(int optname, int64_t value) {
  std::string name = optname == SO_RCVBUFFORCE   ? "SO_RCVBUFFORCE"
                     : optname == SO_SNDBUFFORCE ? "SO_SNDBUFFORCE"
                                                 : std::to_string(optname);
  return "setsockopt(" + name + ", " + std::to_string(value) + ")";
}

}  // namespace sliceip::exec
