#include "tools/flowmon/monitor_loop.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <iterator>

namespace flowmon {

int run_monitor_loop(int flowlog, int timer, int signals, MonitorHandler& handler) {
  pollfd fds[] = {{flowlog, POLLIN, 0}, {timer, POLLIN, 0}, {signals, POLLIN, 0}};
  for (;;) {
    if (poll(fds, std::size(fds), -1) < 0) {
      if (errno == EINTR) continue;
      return handler.fail("poll", errno);
    }
    if (fds[2].revents != 0) return handler.stop();
    if (fds[0].revents != 0)
      if (auto end = handler.readable()) return *end;
    if (fds[1].revents != 0) {
      uint64_t expirations = 0;
      if (read(timer, &expirations, sizeof expirations) < 0 && errno != EAGAIN) return handler.fail("timerfd", errno);
      if (auto end = handler.tick()) return *end;
    }
  }
}

}  // namespace flowmon
