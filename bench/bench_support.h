// What every benchmark here shares: percentiles and the `name value unit` / `# note` /
// `verdict` output of bench/README.md, the SIGINT/SIGTERM flag that stops their loops, and
// the Launcher that starts a command as cheaply as a process start gets (vfork path, no
// setpriv), as a given uid, in a given netns and cgroup, with chosen fds inherited.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
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

// `name value unit`: µs with one decimal, a count of samples with none, anything else with two.
void print_figure(const std::string& name, double value, const char* unit);
void print_note(const std::string& text);
void print_verdict(const std::string& target, bool met, const std::string& measured);
// `verdict <text>` for a comparison with no target to meet (what a benchmark found against its
// baseline, said in words).
void print_comparison(const std::string& text);
std::string fixed(double v, int decimals = 2);
// `<name>.samples N samples`: how many samples the figures called <name>.* are from.
void print_samples(const std::string& name, size_t n);
// The 1, 5 and 15 minute load averages ("0.52 0.61 0.70"), for the notes around a part.
std::string loadavg();

// Sample series that a forked client streams back through a pipe: per series its count
// (uint32) then its samples (ns, uint32). write_series returns false if the pipe broke;
// read_series gives them in µs, or nullopt if the stream is short.
bool write_series(int fd, const std::vector<std::vector<uint32_t>>& series);
std::optional<std::vector<std::vector<double>>> read_series_us(const std::string& data, size_t count);

// ---------------------------------------------------------------------------------------------
// Interruption. SIGINT/SIGTERM/SIGHUP set a flag and make a pipe readable (no SA_RESTART:
// blocking calls return EINTR); the loops poll the flag, every blocking wait here polls the pipe
// too (a signal landing just before a wait began would otherwise go unseen until it ended), and
// main then unwinds normally, so every destructor runs: nothing is cleaned up from inside the
// handler, where exit() would skip them. SIGPIPE is caught too (a write to a dead client fails
// with EPIPE instead of killing us mid-run). The one piece of global state, because a signal
// handler can reach nothing else.

void install_signal_handlers();
bool interrupted();
int interrupt_signal();  // the signal that interrupted us (0: none)
int interrupt_fd();      // readable once interrupted; for poll()

// poll() for POLLIN on fd, also watching for an interruption: kReady (readable or hung up),
// kInterrupted, kTimeout (timeout_ms < 0: none).
enum class Wait { kReady, kInterrupted, kTimeout };
Wait wait_readable(int fd, int timeout_ms = -1);
// Reads exactly size bytes; false on EOF, an error or an interruption.
bool read_exact(int fd, void* data, size_t size);
bool write_exact(int fd, const void* data, size_t size);

struct Start {
  const char* who;       // the benchmark's name, for its messages
  const char* why_root;  // what it needs root for
  void (*usage)();
  bool flags_ok = true;
  bool cleanup_only = false;  // --cleanup
};
// The start of every benchmark's main. nullopt: go on (the handlers are in, what killed runs of
// any benchmark left behind is removed, this run is recorded: leftovers.h). Else main returns
// the value at once: 2 after `usage` (flags refused) or "<who>: needs root (<why_root>)", 0
// after --cleanup did its work.
std::optional<int> begin(const Start& start);
// The end of every benchmark's main, once everything it made has been torn down (call it
// outside the scope that held the testbeds): removes whatever the destructors missed (and says
// so), drops this run's record; interrupted: prints "# <who>: interrupted by SIGTERM ..." and
// returns 128 + the signal, else `code`.
int finish(int code);

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

// Waits for pid; its exit code as Launcher::run. On interruption it gets SIGTERM, and SIGKILL
// if it is still there 5 s later.
int wait_child(pid_t pid);
// What a child wrote to the pipe whose read end is out_fd, read to EOF, then its exit code (as
// wait_child). On interruption the child gets SIGTERM (it must not ignore it: a forked child
// set up by enter_child_place has SIG_DFL) and what it wrote until then is kept.
struct ChildOutput {
  int code = -1;
  std::string out;
};
ChildOutput collect_child(pid_t pid, int out_fd);

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
