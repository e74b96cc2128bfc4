// The one poll loop of both netd-flowmon modes: the flow log socket, a timerfd and the stop
// signals' signalfd, each handed to the mode's handler.
//
// Reads are coalesced: once a wake-up has emptied the flow log socket, the loop leaves it alone
// for kCoalesceMs (the timer and the signals are still heard). NFLOG hands over a batch of
// packets per message (netd asks for 64, then 16); waking for each message cost most of
// netd-flowmon's CPU (bench/flowmon_bench: 4x softflowd's per packet at 50 kpps, two thirds of it
// in wake-ups; 2x once coalesced). The socket's buffer (8 MB, some 30 000 packets) holds what
// comes meanwhile many times over; a flow's times move by up to that much, as they are taken
// when a packet is read.
#pragma once

#include <optional>

namespace flowmon {

class MonitorHandler {
 public:
  virtual ~MonitorHandler() = default;
  // The flow log is readable / the timer fired: nullopt to go on, else the exit status.
  virtual std::optional<int> readable() = 0;
  // After readable(): whether it read the flow log empty (the loop then rests, see above).
  virtual bool caught_up() const = 0;
  virtual std::optional<int> tick() = 0;
  // SIGINT or SIGTERM arrived: the exit status.
  virtual int stop() = 0;
  // A system call of the loop failed: print it, return the exit status.
  virtual int fail(const char* what, int error) = 0;
};

constexpr int kCoalesceMs = 10;

int run_monitor_loop(int flowlog, int timer, int signals, MonitorHandler& handler);

}  // namespace flowmon
