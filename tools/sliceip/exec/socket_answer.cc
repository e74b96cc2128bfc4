#include "tools/sliceip/exec/socket_answer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

namespace sliceip::exec {

namespace {

constexpr int kTypeMask = 0xf;  // SOCK_TYPE_MASK in the kernel

std::string domain_name(int domain) {
  switch (domain) {
    case AF_INET: return "AF_INET";
    case AF_INET6: return "AF_INET6";
    case AF_PACKET: return "AF_PACKET";
    default: return std::to_string(domain);
  }
}

std::string type_name(int type) {
  switch (type & kTypeMask) {
    case SOCK_RAW: return "SOCK_RAW";
    case SOCK_DGRAM: return "SOCK_DGRAM";
    case SOCK_STREAM: return "SOCK_STREAM";
    default: return std::to_string(type & kTypeMask);
  }
}

}  // namespace

SocketAnswer answer_socket(const SocketCall& call) {
  SocketAnswer answer;
  if (!call.same_netns) return answer;  // netd's socket would live in the wrong netns
  if ((call.type & kTypeMask) != SOCK_RAW) return answer;
  if ((call.type & ~(kTypeMask | SOCK_NONBLOCK | SOCK_CLOEXEC)) != 0) return answer;  // the kernel's EINVAL
  answer.nonblock = (call.type & SOCK_NONBLOCK) != 0;
  answer.cloexec = (call.type & SOCK_CLOEXEC) != 0;
  if (call.domain == AF_INET || call.domain == AF_INET6) {
    // 0 is EPROTONOSUPPORT and >= IPPROTO_MAX EINVAL in the kernel, before it checks CAP_NET_RAW.
    if (call.protocol <= 0 || call.protocol > 255) return answer;
    answer.kind = SocketAnswer::Kind::kRaw;
    answer.domain = call.domain;
    answer.protocol = call.protocol;
    return answer;
  }
  if (call.domain == AF_PACKET) {
    // The kernel refuses any packet socket without CAP_NET_RAW first, whatever the protocol.
    if (call.protocol < 0 || call.protocol > 0xffff) {
      answer.kind = SocketAnswer::Kind::kErrno;
      answer.error = EPERM;
      answer.reason = "protocol " + std::to_string(call.protocol) + " is not a 16-bit ethertype";
      return answer;
    }
    answer.kind = SocketAnswer::Kind::kPacket;
    answer.protocol = ntohs(static_cast<uint16_t>(call.protocol));
    return answer;
  }
  return answer;
}

std::string describe_socket_call(const SocketCall& call) {
  return "socket(" + domain_name(call.domain) + ", " + type_name(call.type) + ")";
}

}  // namespace sliceip::exec
