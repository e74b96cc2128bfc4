// Per-uid caps on the Varlink socket: open connections and request rate (token bucket).
// Every user-controllable resource has a limit; admins are exempt.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <unordered_map>

namespace netd::server {

class UidLimits {
 public:
  UidLimits(uint32_t max_connections, uint32_t requests_per_second)
      : max_connections_(max_connections), rate_(requests_per_second) {}

  void set(uint32_t max_connections, uint32_t requests_per_second) {
    max_connections_ = max_connections;
    rate_ = requests_per_second;
  }

  // True and counted when uid may open one more connection.
  bool try_connect(uid_t uid);
  void disconnect(uid_t uid);
  // True when uid may make one more request at now_ns (monotonic).
  bool try_request(uid_t uid, uint64_t now_ns);
  uint32_t max_connections() const { return max_connections_; }
  uint32_t rate() const { return rate_; }

 private:
  struct Bucket {
    uint32_t connections = 0;
    double tokens = -1;  // < 0: not yet initialised (starts full)
    uint64_t last_ns = 0;
  };
  uint32_t max_connections_;
  uint32_t rate_;
  std::unordered_map<uid_t, Bucket> buckets_;
};

}  // namespace netd::server
