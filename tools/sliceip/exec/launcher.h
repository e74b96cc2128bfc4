// Starts the program under the filter: the child sets no_new_privs, installs the filter itself
// (it must be the filtered task), hands the listener fd to the parent over a socketpair and
// execs. The parent learns whether the exec worked through a close-on-exec pipe.
#pragma once

#include <linux/filter.h>
#include <signal.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "lib/core/unique_fd.h"

namespace sliceip::exec {

struct Launched {
  pid_t pid = -1;
  netd::UniqueFd pidfd;     // the child, for poll (readable once it has exited)
  netd::UniqueFd listener;  // the filter's notification fd
};

struct LaunchOutcome {
  bool ok = false;
  Launched child;     // when ok
  int exit_code = 0;  // otherwise: 125, 126 or 127 ...
  std::string error;  // ... and what failed, for "sliceip: exec: <error>"
};

// argv[0] is looked up in PATH (execvp). child_mask: the signal mask the program starts with
// (the caller's own, before the supervisor blocked the signals it reads from a signalfd).
// Inherited fds stay as the caller gave them (socket activation, `3<file`); the supervisor's
// own are all close-on-exec.
LaunchOutcome launch(const std::vector<std::string>& argv, const std::vector<sock_filter>& filter,
                     const sigset_t& child_mask);

}  // namespace sliceip::exec
