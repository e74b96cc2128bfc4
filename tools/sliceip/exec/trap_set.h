// Which system calls the filter sends to the supervisor, from the slice's facts: only calls
// netd could answer for this slice, so every other call stays in the kernel (SECCOMP_RET_ALLOW,
// decided by the kernel's per-syscall action cache without running the filter).
#pragma once

#include "tools/sliceip/exec/slice_facts.h"

namespace sliceip::exec {

struct TrapSet {
  // socket(AF_INET | AF_INET6 | AF_PACKET, SOCK_RAW [| flags], *): netd's io.netd.Sockets.
  bool raw_sockets = false;

  bool empty() const { return !raw_sockets; }
};

// raw_sockets when the slice may hold any raw kind or is a monitor. Then every raw family is
// trapped, also those the policy refuses, so the program's EPERM comes with netd's reason.
TrapSet trap_set_for(const SliceFacts& facts);

}  // namespace sliceip::exec
