// The fd/env/exec hand-over of run and attach, with a pipe standing in for the device: the
// child gets it as fd 3 (inheritable), VTUNTAP_IFNAME is set, nothing else is added, and a
// program that cannot be run is an error for the caller to report.
#include "tools/vtuntap/exec.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/fixtures/test_macros.h"

namespace vtuntap {
namespace {

struct Pipe {
  netd::UniqueFd read_end;
  netd::UniqueFd write_end;
};

Pipe make_pipe() {
  int fds[2];
  EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);  // close-on-exec, as fds from netd are
  return {netd::UniqueFd(fds[0]), netd::UniqueFd(fds[1])};
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  return out;
}

struct Outcome {
  int exit_code = -1;
  std::string out;  // the child's stdout (and, for failures, the error message)
};

// Forks; the child redirects stdout to a pipe, moves `device_fd` to `at` (to test fd numbers),
// and calls exec_with_device. If that returns, the child prints the error and exits 127, as
// vtuntap's main does.
Outcome run_child(netd::UniqueFd device, int at, const std::vector<std::string>& argv) {
  Pipe out = make_pipe();
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out.write_end.get(), STDOUT_FILENO);
    netd::UniqueFd moved = std::move(device);
    if (at >= 0 && moved.get() != at) {
      if (dup3(moved.get(), at, O_CLOEXEC) < 0) _exit(90);
      moved.reset(at);
    }
    netd::Error error = exec_with_device(std::move(moved), "tun7-0", argv);
    std::string line = "error " + std::to_string(error.code) + ": " + error.message + "\n";
    (void)!write(STDOUT_FILENO, line.data(), line.size());
    _exit(127);
  }
  device.reset();
  out.write_end.reset();
  Outcome outcome;
  outcome.out = read_all(out.read_end.get());
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return outcome;
}

TEST(ExecWithDevice, DeviceIsFd3AndNameIsSet) {
  Pipe device = make_pipe();
  int original = device.write_end.get();
  // fd 3 exists and is the device (what the program writes there comes out of the pipe), the
  // device's own number is gone, and the exit status is the program's.
  std::string script =
      "test -e /proc/self/fd/3 && echo $VTUNTAP_IFNAME; echo via-fd3 >&3; "
      "test -e /proc/self/fd/" +
      std::to_string(original) + " && echo original-still-open; exit 7";
  Outcome outcome = run_child(std::move(device.write_end), -1, {"sh", "-c", script});
  EXPECT_EQ(outcome.exit_code, 7);
  EXPECT_EQ(outcome.out, "tun7-0\n");
  EXPECT_EQ(read_all(device.read_end.get()), "via-fd3\n");
}

TEST(ExecWithDevice, DeviceAlreadyOnFd3LosesCloseOnExec) {
  Pipe device = make_pipe();
  Outcome outcome = run_child(std::move(device.write_end), 3,
                              {"sh", "-c", "echo $VTUNTAP_IFNAME; echo via-fd3 >&3"});
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_EQ(outcome.out, "tun7-0\n");
  EXPECT_EQ(read_all(device.read_end.get()), "via-fd3\n");
}

TEST(ExecWithDevice, ReplacesWhateverWasOnFd3) {
  Pipe stale = make_pipe();
  Pipe device = make_pipe();
  ASSERT_NE(device.write_end.get(), 3);  // else the stale dup2 below would clobber it
  pid_t pid = fork();
  if (pid == 0) {
    // fd 3 held something else (say, vtuntap's connection to netd): the device replaces it.
    if (dup2(stale.write_end.get(), 3) < 0) _exit(90);
    stale.write_end.reset();
    (void)exec_with_device(std::move(device.write_end), "tap7-1", {"sh", "-c", "echo new >&3"});
    _exit(127);
  }
  stale.write_end.reset();
  device.write_end.reset();
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(read_all(device.read_end.get()), "new\n");
  EXPECT_EQ(read_all(stale.read_end.get()), "");
}

TEST(ExecWithDevice, ProgramSearchedInPath) {
  Pipe device = make_pipe();
  Outcome outcome = run_child(std::move(device.write_end), -1, {"true"});
  EXPECT_EQ(outcome.exit_code, 0);
  EXPECT_EQ(outcome.out, "");
}

TEST(ExecWithDevice, MissingProgramIsAnError) {
  Pipe device = make_pipe();
  Outcome outcome = run_child(std::move(device.write_end), -1, {"/nonexistent/vtuntap-test-prog"});
  EXPECT_EQ(outcome.exit_code, 127);
  EXPECT_EQ(outcome.out, "error " + std::to_string(ENOENT) +
                             ": cannot run '/nonexistent/vtuntap-test-prog': No such file or "
                             "directory\n");
}

TEST(ExecWithDevice, NotExecutableIsAnError) {
  Pipe device = make_pipe();
  Outcome outcome = run_child(std::move(device.write_end), -1, {"/dev/null"});
  EXPECT_EQ(outcome.exit_code, 127);
  EXPECT_EQ(outcome.out,
            "error " + std::to_string(EACCES) + ": cannot run '/dev/null': Permission denied\n");
}

TEST(ExecWithDevice, NothingToRunOrNoDevice) {
  // Checked before anything changes, so these run in the test process itself.
  netd::Error no_program = exec_with_device(netd::UniqueFd(), "tun7-0", {});
  EXPECT_EQ(no_program.code, EINVAL);
  netd::Error no_device = exec_with_device(netd::UniqueFd(), "tun7-0", {"true"});
  EXPECT_EQ(no_device.code, EBADF);
}

}  // namespace
}  // namespace vtuntap
