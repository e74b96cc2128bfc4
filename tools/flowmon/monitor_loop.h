// The one poll loop of both netd-flowmon modes: the flow log socket, a timerfd and the stop
// signals' signalfd, each handed to the mode's handler.
#pragma once

#include <optional>

namespace flowmon {

class MonitorHandler {
 public:
  virtual ~MonitorHandler() = default;
  // The flow log is readable / the timer fired: nullopt to go on, else the exit status.
  virtual std::optional<int> readable() = 0;
  virtual std::optional<int> tick() = 0;
  // SIGINT or SIGTERM arrived: the exit status.
  virtual int stop() = 0;
  // A system call of the loop failed: print it, return the exit status.
  virtual int fail(const char* what, int error) = 0;
};

int run_monitor_loop(int flowlog, int timer, int signals, MonitorHandler& handler);

}  // namespace flowmon
