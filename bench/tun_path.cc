#include "bench/tun_path.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "bench/bench_testbed.h"
#include "tests/fixtures/files.h"
#include "tests/fixtures/process.h"

namespace bench {

namespace {
constexpr const char* kIp = "/usr/sbin/ip";
}  // namespace

netd::Result<netd::UniqueFd> make_tun_in(const netd::testing::Netns& ns, const std::string& name,
                                         const std::string& addr) {
  netd::UniqueFd fd;
  {
    NETD_ASSIGN_OR_RETURN(auto guard, ns.enter());
    fd = netd::UniqueFd(open("/dev/net/tun", O_RDWR | O_CLOEXEC));
    if (!fd.valid()) return netd::errno_error("open /dev/net/tun");
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, name.data(), std::min(name.size(), sizeof ifr.ifr_name - 1));
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    if (ioctl(fd.get(), TUNSETIFF, &ifr) < 0) return netd::errno_error("TUNSETIFF " + name);
  }
  netd::UniqueFd high(fcntl(fd.get(), F_DUPFD_CLOEXEC, 10));
  if (!high.valid()) return netd::errno_error("F_DUPFD_CLOEXEC");
  NETD_TRY(must(netd::testing::run_in(&ns, {kIp, "addr", "add", addr, "dev", name}), "address of " + name));
  NETD_TRY(must(netd::testing::run_in(&ns, {kIp, "link", "set", name, "up"}), "bringing " + name + " up"));
  return high;
}

std::optional<std::string> read_line(int fd, std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  std::string line;
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline && !interrupted()) {
    pollfd p{fd, POLLIN, 0};
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    if (poll(&p, 1, std::max(left, 1)) <= 0) continue;
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n <= 0) return std::nullopt;
    if (c == '\n') return line;
    line += c;
  }
  return std::nullopt;
}

std::optional<RunningChild> start_forwarder(const Launcher& launcher, const Command& cmd, const std::string& log_path,
                                            const std::string& part, const std::string& label) {
  netd::UniqueFd log(open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return std::nullopt;
  netd::UniqueFd rd(p[0]), wr(p[1]);
  RunningChild child(launcher.start(cmd, wr.get(), log.get()));
  wr.reset();
  auto line = read_line(rd.get(), std::chrono::seconds(10));
  if (!line || line->rfind("ready ", 0) != 0) {
    auto text = netd::testing::read_text_file(log_path);
    print_note(part + ": " + label + " forwarder did not start: " + (text.ok() ? *text : std::string("?")));
    return std::nullopt;
  }
  print_note(part + ": " + label + " forwarder: " + *line);
  return child;
}

}  // namespace bench
