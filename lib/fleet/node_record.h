// The node registry: the JSON value netd keeps at <prefix>nodes/<node> under a lease, so an admin
// sees which revision each host applied and whether it refused one (`etcdctl get --prefix
// /netd/nodes/`, `sliceip -a fleet status`). A node whose netd dies loses its key with the lease.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lib/core/result.h"

namespace netd::fleet {

struct NodeRecord {
  std::string node;
  int64_t revision = 0;    // the etcd revision of the policy it runs; 0: none applied yet
  int64_t applied_at = 0;  // when it applied it (seconds since the epoch); 0: never
  std::string health = "ok";  // "ok", or health_refused()'s text
  std::string version;     // netd's version
  int64_t pid = 0;
  int64_t started_at = 0;  // when this netd started (seconds since the epoch)
  friend bool operator==(const NodeRecord&, const NodeRecord&) = default;
};

// "refused revision N: reason" (the reason on one line, cut to a few hundred bytes: a record
// is read in a terminal, and the full refusal is in the node's log).
std::string health_refused(int64_t revision, std::string_view reason);

// One JSON object, keys in the order above, times as UTC text ("2026-12-07T06:36:37Z").
std::string to_json(const NodeRecord& record);
// EINVAL saying what is wrong (not JSON, a field missing or of the wrong type). Unknown fields
// are skipped: a later netd may add some, and an older sliceip still prints the rest.
Result<NodeRecord> node_record_from_json(std::string_view text);

}  // namespace netd::fleet
