// The supervisor's loop, single-threaded: poll on the listener (answer trapped calls), a
// signalfd (forward signals sent to sliceip) and the child's pidfd (its exit).
#pragma once

#include <signal.h>

#include "lib/core/unique_fd.h"
#include "tools/sliceip/exec/launcher.h"
#include "tools/sliceip/exec/listener.h"
#include "tools/sliceip/exec/call_router.h"

namespace sliceip::exec {

struct SupervisionEnd {
  int wait_status = 0;     // the program's, as waitpid reports it
  bool detached = false;   // this is the forked-off copy that served descendants: exit 0
};

class Supervisor {
 public:
  // signals: a signalfd for the signals to forward (blocked in this process); original_mask:
  // the mask to restore in a forked-off copy.
  Supervisor(Launched child, CallRouter& responder, netd::UniqueFd signals, const sigset_t& original_mask)
      : pid_(child.pid),
        pidfd_(std::move(child.pidfd)),
        listener_(std::move(child.listener)),
        responder_(responder),
        signals_(std::move(signals)),
        original_mask_(original_mask) {}

  // Serves until the program has exited. If a descendant still runs under the filter then
  // (a daemon it started), the process forks: the parent returns the program's status at once,
  // the copy keeps answering until no filtered task is left and returns detached.
  SupervisionEnd run();

 private:
  void forward_signals();
  bool listener_hung_up() const;
  void detach();

  pid_t pid_;
  netd::UniqueFd pidfd_;
  Listener listener_;
  CallRouter& responder_;
  netd::UniqueFd signals_;
  sigset_t original_mask_;
};

}  // namespace sliceip::exec
