#include "tools/sliceip/exec/launcher.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tools/sliceip/exec/exit_status.h"
#include "tools/sliceip/exec/seccomp_uapi.h"

namespace sliceip::exec {

namespace {

// What the child writes to the status pipe when it fails before the program runs.
struct ChildFailure {
  int stage;  // kStage*
  int err;
};
constexpr int kStageNoNewPrivs = 1;
constexpr int kStageFilter = 2;
constexpr int kStageSendListener = 3;
constexpr int kStageExec = 4;

[[noreturn]] void child_fail(int status_fd, int stage) {
  ChildFailure failure{stage, errno};
  (void)!write(status_fd, &failure, sizeof failure);
  _exit(kExitOwnFailure);
}

// One byte of data carrying room for one fd (SCM_RIGHTS). Not copyable: msg points into it.
struct OneFdMessage {
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};

  OneFdMessage() {
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
  }
  OneFdMessage(const OneFdMessage&) = delete;
  OneFdMessage& operator=(const OneFdMessage&) = delete;
};

bool send_fd(int sock, int fd) {
  OneFdMessage m;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&m.msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  return sendmsg(sock, &m.msg, MSG_NOSIGNAL) == 1;
}

netd::UniqueFd receive_fd(int sock) {
  OneFdMessage m;
  ssize_t n;
  do n = recvmsg(sock, &m.msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return netd::UniqueFd();
  for (cmsghdr* c = CMSG_FIRSTHDR(&m.msg); c != nullptr; c = CMSG_NXTHDR(&m.msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int))) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
      return netd::UniqueFd(fd);
    }
  }
  return netd::UniqueFd();
}

// Runs in the child, between fork and exec: only async-signal-safe calls (one thread anyway).
[[noreturn]] void run_child(char* const* argv, const sock_fprog& prog, const sigset_t& mask, int sock,
                            int status_fd) {
  sigprocmask(SIG_SETMASK, &mask, nullptr);
  // Without it an unprivileged task may not install a filter; with it, setuid and
  // file-capability binaries run without their privileges (as they must under a supervisor).
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) child_fail(status_fd, kStageNoNewPrivs);
  long listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                          SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &prog);
  if (listener < 0) child_fail(status_fd, kStageFilter);
  if (!send_fd(sock, static_cast<int>(listener))) child_fail(status_fd, kStageSendListener);
  close(static_cast<int>(listener));
  close(sock);
  execvp(argv[0], argv);
  child_fail(status_fd, kStageExec);
}

LaunchOutcome failed(int code, std::string error) {
  LaunchOutcome outcome;
  outcome.exit_code = code;
  outcome.error = std::move(error);
  return outcome;
}

std::string stage_words(int stage) {
  switch (stage) {
    case kStageNoNewPrivs: return "setting no_new_privs";
    case kStageFilter: return "installing the seccomp filter";
    case kStageSendListener: return "handing the seccomp listener to the supervisor";
    default: return "starting the program";
  }
}

}  // namespace

LaunchOutcome launch(const std::vector<std::string>& argv, const std::vector<sock_filter>& filter,
                     const sigset_t& child_mask) {
  std::vector<char*> args;
  for (const auto& word : argv) args.push_back(const_cast<char*>(word.c_str()));
  args.push_back(nullptr);
  sock_fprog prog{static_cast<unsigned short>(filter.size()), const_cast<sock_filter*>(filter.data())};

  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
    return failed(kExitOwnFailure, std::string("socketpair: ") + std::strerror(errno));
  netd::UniqueFd parent_sock(pair[0]), child_sock(pair[1]);
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return failed(kExitOwnFailure, std::string("pipe: ") + std::strerror(errno));
  netd::UniqueFd status_read(pipe_fds[0]), status_write(pipe_fds[1]);

  pid_t pid = fork();
  if (pid < 0) return failed(kExitOwnFailure, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) run_child(args.data(), prog, child_mask, child_sock.get(), status_write.get());
  child_sock.reset();
  status_write.reset();

  LaunchOutcome outcome;
  outcome.child.pid = pid;
  outcome.child.pidfd = netd::UniqueFd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  int pidfd_errno = errno;
  outcome.child.listener = receive_fd(parent_sock.get());
  // EOF without a failure record: the exec worked (the pipe closed on exec).
  ChildFailure failure{};
  ssize_t n;
  do n = read(status_read.get(), &failure, sizeof failure);
  while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    waitpid(pid, nullptr, 0);
    if (failure.stage == kStageExec)
      return failed(exit_code_for_exec_errno(failure.err), argv[0] + ": " + std::strerror(failure.err));
    return failed(kExitOwnFailure, stage_words(failure.stage) + ": " + std::strerror(failure.err));
  }
  if (!outcome.child.pidfd.valid() || !outcome.child.listener.valid()) {
    std::string what = outcome.child.pidfd.valid() ? "no seccomp listener from the child"
                                                   : std::string("pidfd_open: ") + std::strerror(pidfd_errno);
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return failed(kExitOwnFailure, what);
  }
  outcome.ok = true;
  return outcome;
}

}  // namespace sliceip::exec
