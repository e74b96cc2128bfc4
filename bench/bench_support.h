// What every benchmark here shares: percentiles and the `name value unit` / `# note` /
// `verdict` output of bench/README.md, the SIGINT/SIGTERM flag that stops their loops, and
// the Launcher that starts a command as cheaply as a process start gets (vfork path, no
// setpriv), as a given uid, in a given netns and cgroup, with chosen fds inherited.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lib/core/result.h"
#include "lib/core/unique_fd.h"

namespace bench {

// ---------------------------------------------------------------------------------------------
// Figures

struct Stats {
  size_t n = 0;
  double median = 0, p90 = 0, p99 = 0;
};

// Nearest-rank percentiles of samples (any unit).
Stats stats_of(std::vector<double> v);

// `name value unit`: µs with one decimal, anything else with two.
void print_figure(const std::string& name, double value, const char* unit);
void print_note(const std::string& text);
void print_verdict(const std::string& target, bool met, const std::string& measured);
std::string fixed(double v, int decimals = 2);

// ---------------------------------------------------------------------------------------------
// Interruption. SIGINT/SIGTERM set a flag (no SA_RESTART: blocking waits return EINTR), loops
// poll it and the normal clean-up runs. The one piece of global state, because a signal
// handler can reach nothing else.

void install_signal_handlers();
bool interrupted();

// The start of every benchmark's main: false after calling `usage` (the flags were refused) or
// printing "<who>: needs root (<why_root>)", and main returns 2; else the handlers above are in.
bool begin(bool flags_ok, void (*usage)(), const char* who, const char* why_root);

// ---------------------------------------------------------------------------------------------
// Process runs.
//
// Fairness: every command is started the same way: clone(CLONE_VM|CLONE_VFORK) (posix_spawn's
// path) → join the cgroup → setns into the netns → for a uid: setgroups(0)/setresgid/
// setresuid → the fds put in place → execve of the program itself. Not through setpriv, a
// second execve (~1.7 ms here) that root's own tools would not pay: a constant added to both
// sides of a ratio flatters it.

struct Command {
  std::string label;
  std::optional<uid_t> uid;  // nullopt: stays root
  gid_t gid = 0;
  std::vector<std::string> argv;
  int netns_fd = -1;         // -1: the Launcher's netns
  bool join_cgroup = true;   // false: stays in the benchmark's own cgroup
  // {an fd of this process, its number in the child} (made inheritable there); the child's
  // numbers must be above 2 and must not be among the sources.
  std::vector<std::pair<int, int>> fds;
};

class Launcher {
 public:
  // Commands run in the netns at netns_path and join the cgroup dir cgroup_dir (unless they
  // say otherwise), with exactly the environment env ("NAME=value").
  static netd::Result<Launcher> create(const std::string& netns_path, const std::string& cgroup_dir,
                                       std::vector<std::string> env);

  // Starts cmd; returns its pid (-1 if clone failed). stdout to out_fd, stderr to err_fd (-1:
  // /dev/null). We are suspended until the child has exec'd.
  pid_t start(const Command& cmd, int out_fd = -1, int err_fd = -1) const;
  // Runs cmd to completion; its exit code (128+signal if killed, -1 if it could not start).
  // On interruption the child gets SIGTERM and is still reaped.
  int run(const Command& cmd, int err_fd = -1) const;
  // As run(), with what it printed on stderr (for a failure's diagnosis; small outputs).
  std::pair<int, std::string> run_capturing(const Command& cmd) const;
  // As run(), with its stdout (read while it runs: any size) and its stderr (small outputs).
  struct Output {
    int code = -1;
    std::string out, err;
  };
  Output run_collecting(const Command& cmd) const;

 private:
  Launcher() = default;
  netd::UniqueFd netns_fd_;
  netd::UniqueFd procs_fd_;
  netd::UniqueFd null_fd_;
  std::vector<std::string> env_;
  mutable std::vector<char> child_stack_ = std::vector<char>(256 * 1024);
};

// Waits for pid; its exit code as Launcher::run. On interruption sends SIGTERM once.
int wait_child(pid_t pid);

// A long-running child started with Launcher::start: SIGTERM, then SIGKILL after a grace
// period, and reaped, when this goes out of scope.
class RunningChild {
 public:
  RunningChild() = default;
  explicit RunningChild(pid_t pid) : pid_(pid) {}
  RunningChild(RunningChild&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}
  RunningChild& operator=(RunningChild&& o) noexcept;
  RunningChild(const RunningChild&) = delete;
  RunningChild& operator=(const RunningChild&) = delete;
  ~RunningChild() { stop(); }

  pid_t pid() const { return pid_; }
  bool running() const;  // not exited yet (does not reap)
  // SIGTERM, up to 2 s, SIGKILL; returns the exit code (-1 if there was no child).
  int stop();

 private:
  pid_t pid_ = -1;
};

}  // namespace bench
