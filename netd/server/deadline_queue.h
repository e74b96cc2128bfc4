// Clocks of many connections that share one timeout (idle_timeout, request_timeout), kept in
// the order they were started. With one timeout for all, the earliest start is also the
// earliest expiry, so starting, restarting and stopping a clock are O(1) and the next expiry
// is the front: the event loop needs no timer per connection, only its epoll_wait timeout.
// A reload changes the timeout of every running clock at once, without reordering.
#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <unordered_map>

namespace netd::server {

class DeadlineQueue {
 public:
  explicit DeadlineQueue(uint64_t timeout_ns = 0) : timeout_ns_(timeout_ns) {}

  // 0: clocks keep running but never expire (they do again if a reload sets a timeout).
  void set_timeout(uint64_t timeout_ns) { timeout_ns_ = timeout_ns; }
  uint64_t timeout() const { return timeout_ns_; }

  // (Re)starts id's clock at now_ns (monotonic; a time before the latest start counts as it).
  void start(int id, uint64_t now_ns);
  // Starts id's clock unless it runs already (the first byte of a message, not the last).
  void start_if_stopped(int id, uint64_t now_ns) {
    if (!running(id)) start(id, now_ns);
  }
  void stop(int id);
  bool running(int id) const { return where_.count(id) != 0; }
  // When id's clock started; nullopt when it is not running.
  std::optional<uint64_t> started(int id) const;

  // When the earliest clock expires; nullopt when none runs or there is no timeout.
  std::optional<uint64_t> next_expiry() const;
  // The id whose clock expired first, if any has by now_ns. Its clock keeps running.
  std::optional<int> expired(uint64_t now_ns) const;
  size_t size() const { return order_.size(); }

 private:
  struct Clock {
    int id;
    uint64_t since_ns;
  };
  uint64_t timeout_ns_;
  std::list<Clock> order_;  // oldest start first
  std::unordered_map<int, std::list<Clock>::iterator> where_;
};

// At most one log line per interval for a repeated event (a flood of refused connections):
// the first is logged at once, the rest are counted and reported together once the interval
// has passed, by the next event or by flush() from the event loop's timeout.
class LogThrottle {
 public:
  explicit LogThrottle(uint64_t interval_ns) : interval_ns_(interval_ns) {}

  // An event at now_ns: how many events a line logged now stands for (this one included), or
  // 0 when the line is held back.
  uint64_t on_event(uint64_t now_ns);
  // Held-back events whose line is due by now_ns (0: none); they are then reported.
  uint64_t flush(uint64_t now_ns);
  // When flush() will have something to report; nullopt when nothing is held back.
  std::optional<uint64_t> flush_due() const;

 private:
  uint64_t interval_ns_;
  std::optional<uint64_t> last_line_ns_;
  uint64_t held_ = 0;
};

}  // namespace netd::server
