#include "tools/sliceip/exec/exit_status.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace sliceip::exec {

int exit_code_for_exec_errno(int err) {
  return (err == ENOENT || err == ENOTDIR) ? kExitNotFound : kExitCannotExecute;
}

void exit_like(int wait_status) {
  std::fflush(stdout);
  std::fflush(stderr);
  if (WIFEXITED(wait_status)) _exit(WEXITSTATUS(wait_status));
  if (!WIFSIGNALED(wait_status)) _exit(kExitOwnFailure);
  int sig = WTERMSIG(wait_status);
  // The program may have dumped core; sliceip's own image is of no use to anyone.
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  signal(sig, SIG_DFL);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  sigprocmask(SIG_UNBLOCK, &one, nullptr);
  raise(sig);
  _exit(128 + sig);
}

}  // namespace sliceip::exec
