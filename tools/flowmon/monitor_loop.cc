#include "tools/flowmon/monitor_loop.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <optional>

namespace flowmon {

namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

int run_monitor_loop(int flowlog, int timer, int signals, MonitorHandler& handler) {
  pollfd fds[] = {{flowlog, POLLIN, 0}, {timer, POLLIN, 0}, {signals, POLLIN, 0}};
  std::optional<Clock::time_point> resting_until;  // the flow log is left alone until then
  for (;;) {
    int timeout = -1;
    if (resting_until) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(*resting_until - Clock::now()).count();
      if (left <= 0) {
        resting_until.reset();
      } else {
        timeout = static_cast<int>(left);
      }
    }
    fds[0].fd = resting_until ? -1 : flowlog;  // poll skips a negative fd
    int ready = poll(fds, std::size(fds), timeout);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return handler.fail("poll", errno);
    }
    if (fds[2].revents != 0) return handler.stop();
    if (fds[0].revents != 0) {
      if (auto end = handler.readable()) return *end;
      // Emptied: rest. Not emptied (a wake-up reads a bounded amount): come back at once.
      if (handler.caught_up()) resting_until = Clock::now() + std::chrono::milliseconds(kCoalesceMs);
    }
    if (fds[1].revents != 0) {
      uint64_t expirations = 0;
      if (read(timer, &expirations, sizeof expirations) < 0 && errno != EAGAIN) return handler.fail("timerfd", errno);
      if (auto end = handler.tick()) return *end;
    }
  }
}

}  // namespace flowmon
