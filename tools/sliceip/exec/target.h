// The program's thread behind one notification, reached through a pidfd: a copy of one of its
// fds (pidfd_getfd) and its memory (process_vm_readv/writev). What is read is trusted only after
// Listener::id_valid says the thread is still waiting in that call (its tid was not reused).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

#include "lib/core/result.h"
#include "lib/core/unique_fd.h"

namespace sliceip::exec {

class Target {
 public:
  // ESRCH: the thread is gone.
  static netd::Result<Target> open(pid_t tid);

  // A copy of the program's fd `fd` (EBADF: it has none; EPERM: not dumpable).
  netd::Result<netd::UniqueFd> copy_fd(int fd) const;
  // Exactly len bytes at addr (EFAULT for a bad or short address).
  netd::Status read(uint64_t addr, void* out, size_t len) const;
  netd::Status write(uint64_t addr, const void* in, size_t len) const;

  // Whether the program's fd `fd` is close-on-exec: a per-fd flag, which a pidfd_getfd copy does
  // not carry; /proc/<tid>/fdinfo shows it among the "flags" (octal). Unreadable: no.
  bool fd_cloexec(int fd) const;

  pid_t tid() const { return tid_; }

 private:
  Target(pid_t tid, netd::UniqueFd pidfd) : tid_(tid), pidfd_(std::move(pidfd)) {}

  pid_t tid_;
  netd::UniqueFd pidfd_;
};

// Whether the thread's network namespace is the supervisor's own (and netd's). True if it cannot
// tell: the thread is then gone, and a vanished thread gets nothing anyway.
bool same_netns(pid_t tid);
// Whether a socket (a copy of the program's) belongs to the supervisor's network namespace, in
// which device names are netd's (compared by SO_NETNS_COOKIE). False if it cannot tell (not a
// socket).
bool socket_in_own_netns(int socket_fd);

}  // namespace sliceip::exec
