#include "bench/bench_support.h"

#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string_view>
#include <thread>

#include "bench/leftovers.h"

namespace bench {

// ---------------------------------------------------------------------------------------------
// Figures

Stats stats_of(std::vector<double> v) {
  Stats s;
  s.n = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto rank = [&](double q) {
    size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
    return v[std::clamp<size_t>(i, 1, v.size()) - 1];
  };
  s.median = rank(0.5);
  s.p90 = rank(0.9);
  s.p99 = rank(0.99);
  return s;
}

void print_figure(const std::string& name, double value, const char* unit) {
  std::string_view u = unit;
  const char* format = u == "us" ? "%s %.1f %s\n" : u == "samples" ? "%s %.0f %s\n" : "%s %.2f %s\n";
  std::printf(format, name.c_str(), value, unit);
  std::fflush(stdout);
}

void print_note(const std::string& text) {
  std::printf("# %s\n", text.c_str());
  std::fflush(stdout);
}

void print_verdict(const std::string& target, bool met, const std::string& measured) {
  std::printf("verdict %s: %s (%s)\n", target.c_str(), met ? "met" : "NOT met", measured.c_str());
  std::fflush(stdout);
}

void print_comparison(const std::string& text) {
  std::printf("verdict %s\n", text.c_str());
  std::fflush(stdout);
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

void print_samples(const std::string& name, size_t n) {
  print_figure(name + ".samples", static_cast<double>(n), "samples");
}

std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

bool write_series(int fd, const std::vector<std::vector<uint32_t>>& series) {
  for (const auto& s : series) {
    uint32_t n = static_cast<uint32_t>(s.size());
    if (!write_exact(fd, &n, sizeof n) || !write_exact(fd, s.data(), s.size() * sizeof(uint32_t))) return false;
  }
  return true;
}

std::optional<std::vector<std::vector<double>>> read_series_us(const std::string& data, size_t count) {
  std::vector<std::vector<double>> us(count);
  size_t off = 0;
  for (auto& series : us) {
    uint32_t n = 0;
    if (off + sizeof n > data.size()) return std::nullopt;
    std::memcpy(&n, data.data() + off, sizeof n);
    off += sizeof n;
    if (off + size_t{n} * sizeof(uint32_t) > data.size()) return std::nullopt;
    series.resize(n);
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t ns;
      std::memcpy(&ns, data.data() + off + i * sizeof ns, sizeof ns);
      series[i] = ns / 1000.0;
    }
    off += size_t{n} * sizeof(uint32_t);
  }
  return us;
}

// ---------------------------------------------------------------------------------------------
// Interruption

namespace {

volatile sig_atomic_t g_signal = 0;
int g_pipe[2] = {-1, -1};  // [0] polled by waits, [1] written by the handler
const char* g_who = "bench";

void on_signal(int sig) {
  if (g_signal != 0) return;  // the first one counts; the clean-up it started must finish
  g_signal = sig;
  int saved = errno;
  if (g_pipe[1] >= 0) (void)!write(g_pipe[1], "x", 1);
  errno = saved;
}

}  // namespace

void install_signal_handlers() {
  if (g_pipe[0] < 0 && pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) g_pipe[0] = g_pipe[1] = -1;
  struct sigaction sa{};
  sa.sa_handler = on_signal;  // no SA_RESTART: blocking calls return EINTR
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
  // A write to a pipe or socket whose reader died (a client killed by the same signal as we
  // were, when it went to the whole process group) must fail with EPIPE, not kill us before we
  // cleaned up. A handler, not SIG_IGN: what we exec gets the default back.
  sa.sa_handler = [](int) {};
  sigaction(SIGPIPE, &sa, nullptr);
}

bool interrupted() { return g_signal != 0; }
int interrupt_signal() { return g_signal; }
int interrupt_fd() { return g_pipe[0]; }

Wait wait_readable(int fd, int timeout_ms) {
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (interrupted()) return Wait::kInterrupted;
    int left = -1;
    if (timeout_ms >= 0) {
      left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
      if (left < 0) return Wait::kTimeout;
    }
    pollfd p[2] = {{fd, POLLIN, 0}, {interrupt_fd(), POLLIN, 0}};
    int n = poll(p, interrupt_fd() >= 0 ? 2 : 1, left);
    if (n < 0 && errno != EINTR) return Wait::kReady;  // let the caller's read say what is wrong
    if (n > 0 && p[0].revents != 0) return Wait::kReady;
    // The pipe is readable: our handler wrote it, or, in a forked child that shares it, our
    // parent's did: either way the run is being stopped.
    if (interrupted() || (n > 0 && p[1].revents != 0)) return Wait::kInterrupted;
  }
}

bool read_exact(int fd, void* data, size_t size) {
  char* p = static_cast<char*>(data);
  while (size > 0) {
    if (wait_readable(fd) != Wait::kReady) return false;
    ssize_t r = read(fd, p, size);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (r <= 0) return false;
    p += r;
    size -= static_cast<size_t>(r);
  }
  return true;
}

bool write_exact(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t w = write(fd, p, size);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    size -= static_cast<size_t>(w);
  }
  return true;
}

std::optional<int> begin(const Start& start) {
  g_who = start.who;
  if (!start.flags_ok) {
    start.usage();
    return 2;
  }
  if (geteuid() != 0) {
    std::fprintf(stderr, "%s: needs root (%s)\n", start.who, start.why_root);
    return 2;
  }
  install_signal_handlers();  // loops stop, and main unwinds: the normal clean-up runs
  for (const auto& line : sweep_stale()) print_note(std::string(start.who) + ": " + line);
  if (start.cleanup_only) {
    print_note(std::string(start.who) + ": --cleanup: nothing else left by killed benchmark runs");
    return 0;
  }
  if (auto recorded = register_run(start.who); !recorded.ok())
    print_note(std::string(start.who) + ": " + recorded.error().message +
               " (a leftover of this run could not be told apart later)");
  return std::nullopt;
}

int finish(int code) {
  for (const auto& line : sweep_own()) print_note(std::string(g_who) + ": left behind and removed now: " + line);
  unregister_run();
  if (!interrupted()) return code;
  const char* name = sigabbrev_np(interrupt_signal());
  print_note(std::string(g_who) + ": interrupted by SIG" + (name ? name : "?") +
             "; everything it made is removed; its figures are incomplete");
  std::fprintf(stderr, "%s: interrupted by SIG%s\n", g_who, name ? name : "?");
  return 128 + interrupt_signal();
}

// ---------------------------------------------------------------------------------------------
// Process runs

namespace {

constexpr size_t kMaxExtraFds = 8;

struct LaunchPlan {
  int procs_fd, netns_fd, out_fd, err_fd, null_fd;
  bool drop;
  uid_t uid;
  gid_t gid;
  size_t fd_count;
  int fd_from[kMaxExtraFds], fd_to[kMaxExtraFds];
  char* const* argv;
  char* const* envp;
};

// The child of clone(CLONE_VM | CLONE_VFORK): it borrows our memory until execve, so raw
// syscalls only (glibc's setresuid would signal "all threads" of the borrowed process).
// Credentials, netns and cgroup are per task here: none of it reaches the parent. execve resets
// the signal handlers.
int launch_child(void* arg) {
  const auto* p = static_cast<const LaunchPlan*>(arg);
  if (p->procs_fd >= 0 && syscall(SYS_write, p->procs_fd, "0", 1) != 1) return 120;
  if (syscall(SYS_setns, p->netns_fd, CLONE_NEWNET) != 0) return 121;
  if (p->drop && (syscall(SYS_setgroups, 0, nullptr) != 0 || syscall(SYS_setresgid, p->gid, p->gid, p->gid) != 0 ||
                  syscall(SYS_setresuid, p->uid, p->uid, p->uid) != 0))
    return 122;
  if (syscall(SYS_dup2, p->null_fd, STDIN_FILENO) < 0 || syscall(SYS_dup2, p->out_fd, STDOUT_FILENO) < 0 ||
      syscall(SYS_dup2, p->err_fd, STDERR_FILENO) < 0)
    return 123;
  for (size_t i = 0; i < p->fd_count; ++i) {
    // dup2 onto itself keeps FD_CLOEXEC: clear it instead.
    long r = p->fd_from[i] == p->fd_to[i] ? syscall(SYS_fcntl, p->fd_to[i], F_SETFD, 0)
                                          : syscall(SYS_dup2, p->fd_from[i], p->fd_to[i]);
    if (r < 0) return 124;
  }
  syscall(SYS_execve, p->argv[0], p->argv, p->envp);
  return 127;  // clone's child returning from its function exits with this status
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string read_all(int fd) {
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

}  // namespace

netd::Result<Launcher> Launcher::create(const std::string& netns_path, const std::string& cgroup_dir,
                                        std::vector<std::string> env) {
  Launcher l;
  l.netns_fd_ = netd::UniqueFd(open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!l.netns_fd_.valid()) return netd::errno_error("open " + netns_path);
  std::string procs = cgroup_dir + "/cgroup.procs";
  l.procs_fd_ = netd::UniqueFd(open(procs.c_str(), O_WRONLY | O_CLOEXEC));
  if (!l.procs_fd_.valid()) return netd::errno_error("open " + procs);
  l.null_fd_ = netd::UniqueFd(open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!l.null_fd_.valid()) return netd::errno_error("open /dev/null");
  l.env_ = std::move(env);
  return l;
}

pid_t Launcher::start(const Command& cmd, int out_fd, int err_fd) const {
  if (cmd.argv.empty() || cmd.fds.size() > kMaxExtraFds) return -1;
  std::vector<char*> argv, envp;
  for (const auto& a : cmd.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env_) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  LaunchPlan plan{};
  plan.procs_fd = cmd.join_cgroup ? procs_fd_.get() : -1;
  plan.netns_fd = cmd.netns_fd >= 0 ? cmd.netns_fd : netns_fd_.get();
  plan.out_fd = out_fd >= 0 ? out_fd : null_fd_.get();
  plan.err_fd = err_fd >= 0 ? err_fd : null_fd_.get();
  plan.null_fd = null_fd_.get();
  plan.drop = cmd.uid.has_value();
  plan.uid = cmd.uid.value_or(0);
  plan.gid = cmd.gid;
  plan.fd_count = cmd.fds.size();
  for (size_t i = 0; i < cmd.fds.size(); ++i) {
    plan.fd_from[i] = cmd.fds[i].first;
    plan.fd_to[i] = cmd.fds[i].second;
  }
  plan.argv = argv.data();
  plan.envp = envp.data();
  // CLONE_VM | CLONE_VFORK on a stack of its own, as posix_spawn does: we are suspended until
  // the child has exec'd (or exited).
  return clone(launch_child, child_stack_.data() + child_stack_.size(), CLONE_VM | CLONE_VFORK | SIGCHLD, &plan);
}

int wait_child(pid_t pid) {
  if (pid < 0) return -1;
  // A pidfd turns "the child exited" into something poll() can wait for next to the
  // interruption pipe; without one (ENOSYS) waitpid's EINTR has to do.
  netd::UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  bool signalled = false;
  auto kill_deadline = std::chrono::steady_clock::time_point::max();
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, pidfd.valid() ? WNOHANG : 0);
    if (r == pid) return exit_code_of(status);
    if (r < 0 && errno != EINTR) return -1;
    if (interrupted() && !signalled) {
      kill(pid, SIGTERM);
      signalled = true;
      kill_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    }
    if (signalled && std::chrono::steady_clock::now() >= kill_deadline) {
      kill(pid, SIGKILL);
      kill_deadline = std::chrono::steady_clock::time_point::max();
    }
    if (pidfd.valid()) {
      pollfd p[2] = {{pidfd.get(), POLLIN, 0}, {interrupt_fd(), POLLIN, 0}};
      // Once signalled, the interruption pipe stays readable: wait on the child alone.
      (void)poll(p, signalled || interrupt_fd() < 0 ? 1 : 2, signalled ? 100 : -1);
    }
  }
}

ChildOutput collect_child(pid_t pid, int out_fd) {
  ChildOutput o;
  bool signalled = false;
  char buf[1 << 16];
  for (;;) {
    if (!signalled && wait_readable(out_fd) == Wait::kInterrupted) {
      kill(pid, SIGTERM);  // its end of the pipe closes when it is gone
      signalled = true;
    }
    ssize_t n = read(out_fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;
    o.out.append(buf, static_cast<size_t>(n));
  }
  o.code = wait_child(pid);
  return o;
}

int Launcher::run(const Command& cmd, int err_fd) const { return wait_child(start(cmd, -1, err_fd)); }

std::pair<int, std::string> Launcher::run_capturing(const Command& cmd) const {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return {-1, "pipe2 failed"};
  netd::UniqueFd rd(pipe_fds[0]), wr(pipe_fds[1]);
  int code = run(cmd, wr.get());  // small outputs fit the pipe buffer
  wr.reset();
  std::string err = read_all(rd.get());
  while (!err.empty() && err.back() == '\n') err.pop_back();
  return {code, err};
}

Launcher::Output Launcher::run_collecting(const Command& cmd) const {
  Output o;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return o;
  netd::UniqueFd out_rd(out_pipe[0]), out_wr(out_pipe[1]);
  if (pipe2(err_pipe, O_CLOEXEC) != 0) return o;
  netd::UniqueFd err_rd(err_pipe[0]), err_wr(err_pipe[1]);
  pid_t pid = start(cmd, out_wr.get(), err_wr.get());
  out_wr.reset();
  err_wr.reset();
  if (pid < 0) return o;
  // EOF when the child (and anything it left running) is gone.
  auto collected = collect_child(pid, out_rd.get());
  o.code = collected.code;
  o.out = std::move(collected.out);
  o.err = read_all(err_rd.get());
  return o;
}

RunningChild& RunningChild::operator=(RunningChild&& o) noexcept {
  if (this != &o) {
    stop();
    pid_ = std::exchange(o.pid_, -1);
  }
  return *this;
}

bool RunningChild::running() const {
  if (pid_ < 0) return false;
  siginfo_t info{};
  if (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) return false;
  return info.si_pid == 0;
}

int RunningChild::stop() {
  if (pid_ < 0) return -1;
  pid_t pid = std::exchange(pid_, -1);
  kill(pid, SIGTERM);
  int status = 0;
  for (int i = 0; i < 200; ++i) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return exit_code_of(status);
    if (r < 0 && errno != EINTR) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return exit_code_of(status);
}

}  // namespace bench
