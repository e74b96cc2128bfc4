#include "bench/request_response.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "bench/budget.h"
#include "lib/core/unique_fd.h"

namespace bench {

namespace {

using Clock = std::chrono::steady_clock;
using netd::UniqueFd;

constexpr size_t kMaxTransactions = 2000000;

sockaddr_in ipv4(const char* addr, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, addr, &a.sin_addr);
  return a;
}

bool pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set) == 0;
}

// The client child: in place, request/response until `until`, each transaction's ns streamed
// back (write_series).
[[noreturn]] void rr_child(const ClientPlace& place, const sockaddr_in& to, Clock::time_point until, int out_fd,
                           const std::string& who) {
  auto fail = [&](const std::string& what) {
    std::fprintf(stderr, "# %s: %s\n", who.c_str(), what.c_str());
    std::fflush(stderr);
    _exit(1);
  };
  if (auto s = enter_child_place(place.netns_path, place.cgroup_procs, place.uid); !s.ok()) fail(s.error().message);
  if (place.cpu >= 0 && !pin_to(place.cpu)) fail("sched_setaffinity");
  UniqueFd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int one = 1;
  setsockopt(s.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (place.mark != 0 && setsockopt(s.get(), SOL_SOCKET, SO_MARK, &place.mark, sizeof place.mark) != 0)
    fail("SO_MARK");
  if (connect(s.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) fail("connect to the echo server");
  std::vector<std::vector<uint32_t>> series(1);
  series[0].reserve(200000);
  char buf[kRrMessage] = {};
  while (series[0].size() < kMaxTransactions) {
    auto t0 = Clock::now();
    if (t0 >= until) break;
    if (send(s.get(), buf, sizeof buf, 0) != sizeof buf || recv(s.get(), buf, sizeof buf, MSG_WAITALL) != sizeof buf)
      fail("the echo connection broke");
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
    series[0].push_back(static_cast<uint32_t>(std::min<int64_t>(ns, UINT32_MAX)));
  }
  _exit(write_series(out_fd, series) ? 0 : 2);
}

}  // namespace

std::optional<RunningChild> start_echo(const netd::testing::Netns& ns, const char* addr, uint16_t port, int cpu) {
  UniqueFd target(open(ns.path().c_str(), O_RDONLY | O_CLOEXEC));
  UniqueFd self(open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!target.valid() || !self.valid() || setns(target.get(), CLONE_NEWNET) != 0) return std::nullopt;
  UniqueFd listener(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  setns(self.get(), CLONE_NEWNET);
  sockaddr_in at = ipv4(addr, port);
  int one = 1;
  setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (!listener.valid() || bind(listener.get(), reinterpret_cast<sockaddr*>(&at), sizeof at) != 0 ||
      listen(listener.get(), 4) != 0) {
    print_note("echo server: cannot listen on " + std::string(addr) + ":" + std::to_string(port) + " in " + ns.name());
    return std::nullopt;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return std::nullopt;
  if (pid == 0) {
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (cpu >= 0) (void)pin_to(cpu);
    char buf[kRrMessage];
    for (;;) {
      UniqueFd c(accept(listener.get(), nullptr, nullptr));
      if (!c.valid()) continue;
      setsockopt(c.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      while (recv(c.get(), buf, sizeof buf, MSG_WAITALL) == sizeof buf &&
             send(c.get(), buf, sizeof buf, 0) == sizeof buf) {
      }
    }
  }
  return RunningChild(pid);
}

std::optional<std::vector<double>> request_response(const ClientPlace& place, const char* addr, uint16_t port,
                                                    double seconds, const std::string& who) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return std::nullopt;
  UniqueFd rd(fds[0]), wr(fds[1]);
  const sockaddr_in to = ipv4(addr, port);
  const auto until = Clock::now() + Phase::to_duration(seconds);
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return std::nullopt;
  if (pid == 0) {
    rd.reset();
    rr_child(place, to, until, wr.get(), who);
  }
  wr.reset();
  auto child = collect_child(pid, rd.get());
  if (child.code != 0) {
    if (!interrupted()) print_note(who + " exited " + std::to_string(child.code));
    return std::nullopt;
  }
  auto series = read_series_us(child.out, 1);
  if (!series || (*series)[0].empty()) return std::nullopt;
  return (*series)[0];
}

}  // namespace bench
