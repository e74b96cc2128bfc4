#include "tools/sliceip/exec/supervisor.h"

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace sliceip::exec {

namespace {

// Sent by a process (kill, sigqueue, tgkill) rather than by the terminal: a ^C already reached
// the program, which is in the same foreground process group.
bool sent_by_a_process(int code) { return code == SI_USER || code == SI_QUEUE || code == SI_TKILL; }

}  // namespace

void Supervisor::forward_signals() {
  signalfd_siginfo info;
  while (read(signals_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    if (!sent_by_a_process(info.ssi_code) || !pidfd_.valid()) continue;
    (void)syscall(SYS_pidfd_send_signal, pidfd_.get(), static_cast<int>(info.ssi_signo), nullptr, 0);
  }
}

bool Supervisor::listener_hung_up() const {
  pollfd p{listener_.fd(), POLLIN, 0};
  if (poll(&p, 1, 0) < 0) return false;
  return (p.revents & (POLLHUP | POLLERR)) != 0 && (p.revents & POLLIN) == 0;
}

// The copy serving descendants: no program to signal or wait for, and signals kill it again.
void Supervisor::detach() {
  signals_.reset();
  pidfd_.reset();
  sigprocmask(SIG_SETMASK, &original_mask_, nullptr);
}

SupervisionEnd Supervisor::run() {
  SupervisionEnd end;
  bool program_done = false, listening = true;
  for (;;) {
    if (program_done) {
      if (!listening || listener_hung_up()) return end;
      if (!end.detached) {
        pid_t copy = fork();
        if (copy != 0) return end;  // the parent (or fork failed): exit with the program's status now
        end.detached = true;
        detach();
      }
    }
    pollfd fds[3];
    nfds_t n = 0;
    int listener_at = -1, signals_at = -1, child_at = -1;
    if (listening) fds[listener_at = n++] = {listener_.fd(), POLLIN, 0};
    if (signals_.valid()) fds[signals_at = n++] = {signals_.get(), POLLIN, 0};
    if (!program_done) fds[child_at = n++] = {pidfd_.get(), POLLIN, 0};
    if (poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "sliceip: exec: poll: %s\n", std::strerror(errno));
      return end;
    }
    if (signals_at >= 0 && (fds[signals_at].revents & POLLIN)) forward_signals();
    if (listener_at >= 0) {
      short revents = fds[listener_at].revents;
      if (revents & POLLIN) {
        auto request = listener_.receive();
        if (request.ok() && request->has_value()) responder_.answer(listener_, **request);
        if (!request.ok()) listening = false;  // the listener broke: the program's calls fail ENOSYS
      } else if (revents & (POLLHUP | POLLERR)) {
        listening = false;  // no filtered task left
      }
    }
    if (child_at >= 0 && (fds[child_at].revents & POLLIN)) {
      int status = 0;
      pid_t reaped;
      do reaped = waitpid(pid_, &status, 0);
      while (reaped < 0 && errno == EINTR);
      end.wait_status = status;
      program_done = true;
    }
  }
}

}  // namespace sliceip::exec
