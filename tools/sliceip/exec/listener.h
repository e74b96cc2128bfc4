// RAII owner of the seccomp notification fd, with the ioctls the supervisor answers through.
#pragma once

#include <cstdint>
#include <optional>

#include "lib/core/result.h"
#include "lib/core/unique_fd.h"
#include "tools/sliceip/exec/seccomp_uapi.h"

namespace sliceip::exec {

class Listener {
 public:
  explicit Listener(netd::UniqueFd fd);

  int fd() const { return fd_.get(); }

  // One pending notification (call after poll said POLLIN: a blocking RECV with no filtered
  // task left would hang). nullopt when it vanished first (the target was killed: ENOENT).
  netd::Result<std::optional<seccomp_notif>> receive();

  // Whether the target is still waiting in this call (and its pid still means it).
  bool id_valid(uint64_t id) const;

  // The kernel carries on with the call as if there were no filter.
  void reply_continue(uint64_t id);
  // The call returns `value` (success).
  void reply_value(uint64_t id, int64_t value);
  // The call fails with err (positive errno).
  void reply_error(uint64_t id, int err);
  // Installs a copy of srcfd in the target at its lowest free fd (close-on-exec if asked) and
  // completes the call with that number, atomically. ENOENT: the target is gone or was
  // interrupted; nothing was installed.
  netd::Status add_fd_and_return(uint64_t id, int srcfd, bool cloexec);
  // Puts a copy of srcfd at the target's fd `newfd`, closing what was there (as dup2 does),
  // without answering the call. ENOENT as above.
  netd::Status replace_fd(uint64_t id, int srcfd, int newfd, bool cloexec);

 private:
  netd::UniqueFd fd_;
};

}  // namespace sliceip::exec
