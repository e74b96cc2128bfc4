// etcd endpoints as configured ("http://10.0.0.1:2379", "https://etcd-a:2379") and key ranges:
// the pure parts of talking to etcd, unit-tested without a server.
#pragma once

#include <string>

#include "lib/core/result.h"

namespace netd::fleet {

struct Endpoint {
  std::string url;     // as configured, for messages
  std::string target;  // "host:port" for gRPC
  bool tls = false;    // https
};

// Only http:// and https:// with an explicit port and nothing after it: a path or query would be
// silently ignored by gRPC, and a missing port would mean gRPC's default (443), not etcd's.
Result<Endpoint> parse_endpoint(const std::string& url);

// The range_end that makes [prefix, range_end) every key starting with `prefix`: the prefix with
// its last byte below 0xff incremented and the rest dropped; "\0" (every key) when it is all 0xff
// or empty, as etcd's clientv3.GetPrefixRangeEnd.
std::string prefix_range_end(const std::string& prefix);

}  // namespace netd::fleet
