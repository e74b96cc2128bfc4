// The answer to a trapped socket() call, decided from its arguments alone (pure).
//
// Why answering CONTINUE is safe: the supervisor only ever adds what the kernel would refuse.
// It lets the call go on (SECCOMP_USER_NOTIF_FLAG_CONTINUE) only where it decided not to help,
// so the kernel's own permission checks still apply to it; every grant is a socket netd made
// for the slice and the supervisor installs, never a CONTINUE (the TOCTOU caveat of
// seccomp_unotify(2) bites only supervisors that grant by continuing).
#pragma once

#include <string>

#include "lib/core/result.h"

namespace sliceip::exec {

struct SocketCall {
  int domain = 0;
  int type = 0;  // SOCK_* | SOCK_NONBLOCK | SOCK_CLOEXEC, as passed
  int protocol = 0;
  bool same_netns = true;  // the caller is in the supervisor's (and netd's) network namespace
};

struct SocketAnswer {
  enum class Kind {
    kContinue,  // the kernel decides, as without sliceip
    kErrno,     // fail with `error`; `reason` goes on stderr
    kRaw,       // io.netd.Sockets.Raw(domain, protocol)
    kPacket,    // io.netd.Sockets.Packet(protocol), protocol in host byte order
  };
  Kind kind = Kind::kContinue;
  int error = 0;
  std::string reason;
  int domain = 0;
  int protocol = 0;
  bool nonblock = false;  // SOCK_NONBLOCK: O_NONBLOCK on netd's socket
  bool cloexec = false;   // SOCK_CLOEXEC: the installed fd is close-on-exec
};

// AF_INET/AF_INET6 SOCK_RAW with protocol 1..255 → kRaw; AF_PACKET SOCK_RAW → kPacket with
// ntohs(protocol) (0 included: libpcap opens so, then binds).
// Everything else, another network namespace, protocols or flags the kernel rejects with
// EINVAL/EPROTONOSUPPORT before any permission check → kContinue.
SocketAnswer answer_socket(const SocketCall& call);

// "socket(AF_PACKET, SOCK_RAW)": how the refusal line names the call.
std::string describe_socket_call(const SocketCall& call);

}  // namespace sliceip::exec
