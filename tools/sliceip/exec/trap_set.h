// Which system calls the filter sends to the supervisor, from the slice's facts: only calls
// netd could answer for this slice, so every other call stays in the kernel (SECCOMP_RET_ALLOW,
// decided by the kernel's per-syscall action cache without running the filter).
#pragma once

#include "tools/sliceip/exec/slice_facts.h"

namespace sliceip::exec {

struct TrapSet {
  // socket(AF_INET | AF_INET6 | AF_PACKET, SOCK_RAW [| flags], *): netd's io.netd.Sockets.
  bool raw_sockets = false;
  // setsockopt(SOL_SOCKET, SO_ATTACH_FILTER | SO_ATTACH_BPF | SO_DETACH_FILTER): answered on
  // netd's locked sockets (sockopt_answer.h); with raw_sockets, the only way to hold one.
  bool socket_filters = false;
  // setsockopt(SOL_SOCKET, SO_RCVBUFFORCE | SO_SNDBUFFORCE): io.netd.SocketOps.SetOption.
  bool forced_buffers = false;
  // bind(*, sockaddr_ll, 20): a monitor's packet socket bound to an uplink becomes a capture
  // socket (capture_answer.h).
  bool packet_binds = false;
  // open/openat(O_RDWR without O_CREAT/O_TRUNC/O_PATH/O_DIRECTORY), ioctl(TUNSETIFF) and
  // ioctl(SIOCSIFMTU): /dev/net/tun and device mtus answered through io.netd.Vifs (tun_answer.h).
  bool tun_devices = false;

  bool empty() const {
    return !raw_sockets && !socket_filters && !forced_buffers && !packet_binds && !tun_devices;
  }
};

// raw_sockets (and socket_filters) when the slice may hold any raw kind or is a monitor. Then
// every raw family is trapped, also those the policy refuses, so the program's EPERM comes with
// netd's reason. forced_buffers when its max_sockbuf is above 0; packet_binds for a monitor;
// tun_devices when its max_vifs is above 0.
TrapSet trap_set_for(const SliceFacts& facts);

}  // namespace sliceip::exec
