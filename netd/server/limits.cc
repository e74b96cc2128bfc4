#include "netd/server/limits.h"

#include <algorithm>

namespace netd::server {

bool UidLimits::try_connect(uid_t uid) {
  Bucket& b = buckets_[uid];
  if (b.connections >= max_connections_) return false;
  ++b.connections;
  return true;
}

void UidLimits::disconnect(uid_t uid) {
  auto it = buckets_.find(uid);
  if (it == buckets_.end()) return;
  // The bucket stays (tokens included): reconnecting must not refill it. One small entry
  // per uid that ever connected.
  if (it->second.connections > 0) --it->second.connections;
}

bool UidLimits::try_request(uid_t uid, uint64_t now_ns) {
  Bucket& b = buckets_[uid];
  const double burst = rate_;  // one second's worth
  if (b.tokens < 0) {
    b.tokens = burst;
  } else {
    double refill = static_cast<double>(now_ns - b.last_ns) * 1e-9 * rate_;
    b.tokens = std::min(burst, b.tokens + refill);
  }
  b.last_ns = now_ns;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

}  // namespace netd::server
