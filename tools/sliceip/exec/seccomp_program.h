// The seccomp filter program for a TrapSet, built with libseccomp and exported as classic BPF
// for the child to install itself: libseccomp 2.5.4 can neither set
// SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV nor add fds, so it only compiles.
#pragma once

#include <linux/filter.h>

#include <vector>

#include "lib/core/result.h"
#include "tools/sliceip/exec/trap_set.h"

namespace sliceip::exec {

// Default SECCOMP_RET_ALLOW; SECCOMP_RET_USER_NOTIF only for the trapped calls with the
// argument values that select them; another architecture's calls (32-bit, x32) → ALLOW: the
// kernel decides them unhelped, as without sliceip.
netd::Result<std::vector<sock_filter>> build_filter(const TrapSet& traps);

}  // namespace sliceip::exec
