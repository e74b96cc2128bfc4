#include "bench/flow_probe.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <thread>
#include <utility>

#include "tests/fixtures/files.h"

namespace bench {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kSoftflowd = "/usr/sbin/softflowd";
constexpr const char* kSoftflowctl = "/usr/sbin/softflowctl";
constexpr int kStartMs = 20000;  // sliceip exec, netd's capture socket, libpcap's ring: well below
constexpr int kPollMs = 10;
// softflowd's capture buffer (libpcap's ring): the same 4 MiB netd gives the flow log socket
// (SO_RCVBUFFORCE), so neither probe rides out a burst on a bigger buffer than the other.
constexpr const char* kRingBytes = "4194304";
// Timeouts far beyond a run: every record goes out at the stop, none in between.
constexpr const char* kFlowmonTimeout = "3600";
int g_probes = 0;  // numbers the probes' stderr files

double since_ms(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// Sleeps `ms` unless the run is interrupted first (false then).
bool pause_ms(int ms) { return wait_readable(interrupt_fd(), ms) == Wait::kTimeout; }

// The first field of a task's schedstat: its time on a CPU, ns.
uint64_t task_cpu_ns(const std::string& task_dir) {
  std::ifstream in(task_dir + "/schedstat");
  uint64_t ns = 0;
  in >> ns;
  return ns;
}

std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  for (pid_t child; in >> child;) out.push_back(child);
  return out;
}

// Reads fd until `needle` is in *text (true), EOF, the timeout or an interruption.
bool read_until(int fd, std::string* text, const char* needle, int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (text->find(needle) == std::string::npos) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    if (left <= 0 || wait_readable(fd, left) != Wait::kReady) return false;
    char buf[1024];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text->append(buf, static_cast<size_t>(n));
  }
  return true;
}

std::string file_text(const std::string& path) {
  auto text = netd::testing::read_text_file(path);
  return text.ok() ? *text : std::string();
}

uint64_t number_after(const std::string& text, const std::string& label) {
  size_t at = text.find(label);
  return at == std::string::npos ? 0 : std::strtoull(text.c_str() + at + label.size(), nullptr, 10);
}

}  // namespace

const char* probe_name(ProbeKind kind) { return kind == ProbeKind::kFlowmon ? "netd-flowmon" : "softflowd"; }
const char* probe_id(ProbeKind kind) { return kind == ProbeKind::kFlowmon ? "netd_flowmon" : "softflowd"; }

std::optional<Probe> Probe::start(ProbeKind kind, const ProbePlace& place, const FlowSink& sink) {
  Probe p(kind, place);
  const int n = ++g_probes;
  p.err_path_ = place.dir + "/probe" + std::to_string(n) + ".err";
  netd::UniqueFd err(open(p.err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!err.valid()) {
    print_note(std::string(probe_name(kind)) + ": cannot create " + p.err_path_);
    return std::nullopt;
  }
  Command cmd{probe_name(kind), kMonitor, kMonitor, {}};
  if (kind == ProbeKind::kFlowmon) {
    cmd.argv = {FLOWMON_BINARY, "--ipfix", sink.address(), "--idle-timeout", kFlowmonTimeout,
                "--active-timeout", kFlowmonTimeout};
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) return std::nullopt;
    p.out_ = netd::UniqueFd(out[0]);
    netd::UniqueFd out_write(out[1]);
    p.pid_ = place.launcher.start(cmd, out_write.get(), err.get());
    out_write.reset();
    std::string said;
    if (p.pid_ < 0 || !read_until(p.out_.get(), &said, "exporting flow records to", kStartMs)) {
      if (!interrupted()) print_note("netd-flowmon did not start: " + said + file_text(p.err_path_));
      return std::nullopt;
    }
    return p;
  }
  p.control_ = place.dir + "/softflowd" + std::to_string(n) + ".ctl";
  cmd.argv = {kSoftflowd, "-d", "-i", "uplink0", "-n", sink.address(), "-v", "5", "-B", kRingBytes, "-t",
              "udp=3600", "-c", p.control_, "-p", place.dir + "/softflowd" + std::to_string(n) + ".pid"};
  if (place.softflowd_as_root) {
    cmd.uid.reset();
    cmd.gid = 0;
  } else {
    cmd.argv.insert(cmd.argv.begin(), {netd::testing::sliceip_binary(), "exec", "--"});
  }
  p.pid_ = place.launcher.start(cmd, -1, err.get());
  auto t0 = Clock::now();
  // softflowd makes its control socket once its capture is set up; polled, it says nothing else.
  while (p.pid_ > 0 && access(p.control_.c_str(), F_OK) != 0) {
    if (waitpid(p.pid_, nullptr, WNOHANG) == p.pid_) p.pid_ = -1;  // it exited: reaped here
    if (p.pid_ < 0 || since_ms(t0) > kStartMs || !pause_ms(kPollMs)) {
      if (!interrupted()) print_note("softflowd did not start: " + file_text(p.err_path_));
      return std::nullopt;
    }
  }
  return p;
}

Probe::Probe(Probe&& other) noexcept
    : kind_(other.kind_),
      place_(other.place_),
      pid_(std::exchange(other.pid_, -1)),
      out_(std::move(other.out_)),
      control_(std::move(other.control_)),
      err_path_(std::move(other.err_path_)) {}

Probe::~Probe() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    wait_child(pid_);
  }
}

std::vector<pid_t> Probe::pids() const {
  std::vector<pid_t> out;
  if (pid_ <= 0) return out;
  out.push_back(pid_);
  for (pid_t child : children_of(pid_)) out.push_back(child);  // softflowd under sliceip exec
  return out;
}

uint64_t Probe::cpu_ns() const {
  uint64_t ns = 0;
  for (pid_t pid : pids()) {
    const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
    if (DIR* d = opendir(tasks.c_str())) {
      while (dirent* e = readdir(d))
        if (e->d_name[0] != '.') ns += task_cpu_ns(tasks + "/" + e->d_name);
      closedir(d);
    }
  }
  return ns;
}

bool Probe::wait_quiet(int max_ms) const {
  constexpr int kWindowMs = 50;
  constexpr double kQuietShare = 0.02;
  auto t0 = Clock::now();
  uint64_t before = cpu_ns();
  while (since_ms(t0) < max_ms) {
    if (!pause_ms(kWindowMs)) return false;
    uint64_t now = cpu_ns();
    if (static_cast<double>(now - before) < kQuietShare * kWindowMs * 1e6) return true;
    before = now;
  }
  return false;
}

std::optional<std::string> Probe::softflowctl(const std::string& command) const {
  Command cmd{"softflowctl " + command, kMonitor, kMonitor, {kSoftflowctl, "-c", control_, command}};
  if (place_->softflowd_as_root) cmd.uid.reset(), cmd.gid = 0;
  auto o = place_->launcher.run_collecting(cmd);
  if (o.code != 0) return std::nullopt;
  return o.out;
}

bool Probe::has_udp_flow_to(uint16_t port) const {
  auto flows = softflowctl("dump-flows");
  return flows && flows->find("]:" + std::to_string(port) + " proto:17 ") != std::string::npos;
}

SoftflowdStats Probe::softflowd_stats() const {
  SoftflowdStats s;
  std::string text = softflowctl("statistics").value_or("");
  s.ok = text.find("Packets processed: ") != std::string::npos;
  s.processed = number_after(text, "Packets processed: ");
  s.ring_received = number_after(text, "Packets received by libpcap: ");
  s.ring_dropped = number_after(text, "Packets dropped by libpcap: ");
  return s;
}

ProbeEnd Probe::stop() {
  ProbeEnd end;
  if (pid_ <= 0) return end;
  // softflowd -d installs no signal handlers (only its daemon mode does): a signal would kill it
  // with its flows unsent. Its control socket's "shutdown" expires and sends every flow first.
  if (kind_ == ProbeKind::kFlowmon || !softflowctl("shutdown")) kill(pid_, SIGTERM);
  end.code = wait_child(std::exchange(pid_, -1));
  std::string err = file_text(err_path_);
  std::smatch m;
  if (std::regex_search(err, m, std::regex(R"(exported (\d+) flow records)"))) end.exported_records = std::stoull(m[1]);
  if (std::regex_search(err, m, std::regex(R"((\d+) flow log overruns)"))) end.overruns = std::stoull(m[1]);
  size_t last = err.find_last_of('\n', err.size() >= 2 ? err.size() - 2 : 0);
  end.summary = err.substr(last == std::string::npos ? 0 : last + 1);
  while (!end.summary.empty() && end.summary.back() == '\n') end.summary.pop_back();
  return end;
}

}  // namespace bench
