#include "netd/server/deadline_queue.h"

#include <algorithm>
#include <utility>

namespace netd::server {

void DeadlineQueue::start(int id, uint64_t now_ns) {
  // The list stays sorted by start only if starts never go back in time.
  if (!order_.empty()) now_ns = std::max(now_ns, order_.back().since_ns);
  auto it = where_.find(id);
  if (it == where_.end()) {
    where_[id] = order_.insert(order_.end(), Clock{id, now_ns});
    return;
  }
  it->second->since_ns = now_ns;
  order_.splice(order_.end(), order_, it->second);  // iterators stay valid
}

void DeadlineQueue::stop(int id) {
  auto it = where_.find(id);
  if (it == where_.end()) return;
  order_.erase(it->second);
  where_.erase(it);
}

std::optional<uint64_t> DeadlineQueue::started(int id) const {
  auto it = where_.find(id);
  if (it == where_.end()) return std::nullopt;
  return it->second->since_ns;
}

std::optional<uint64_t> DeadlineQueue::next_expiry() const {
  if (order_.empty() || timeout_ns_ == 0) return std::nullopt;
  return order_.front().since_ns + timeout_ns_;
}

std::optional<int> DeadlineQueue::expired(uint64_t now_ns) const {
  auto due = next_expiry();
  if (!due || *due > now_ns) return std::nullopt;
  return order_.front().id;
}

uint64_t LogThrottle::on_event(uint64_t now_ns) {
  ++held_;
  return flush(now_ns);
}

uint64_t LogThrottle::flush(uint64_t now_ns) {
  if (held_ == 0) return 0;
  if (last_line_ns_ && now_ns < *last_line_ns_ + interval_ns_) return 0;
  last_line_ns_ = now_ns;
  return std::exchange(held_, 0);
}

std::optional<uint64_t> LogThrottle::flush_due() const {
  if (held_ == 0) return std::nullopt;
  return last_line_ns_ ? *last_line_ns_ + interval_ns_ : 0;
}

}  // namespace netd::server
