// netd's etcd v3 client: blocking calls, each with a deadline (EtcdOptions::call_timeout),
// errors as Result with a message naming the call, the endpoint and the gRPC status (errno as in
// grpc_error.h: ERANGE for a compacted revision, ECONNREFUSED for no endpoint/leader, ...).
// Meant for one thread (the fleet watcher); only EtcdWatch::cancel() may come from another.
// No gRPC or protobuf type appears here: netd_etcd is the only part of netd that sees them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "lib/core/result.h"
#include "netd/fleet/etcd/etcd_options.h"
#include "netd/fleet/etcd/etcd_types.h"
#include "netd/fleet/etcd/etcd_watch.h"

namespace netd::fleet {

class Connection;

class EtcdClient {
 public:
  // Checks the options and reads the TLS files; does not contact etcd (an unreachable etcd is
  // an error of the first call, not of connect), so netd can start without it.
  static Result<std::unique_ptr<EtcdClient>> connect(const EtcdOptions& options);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // Every key under `prefix` at one revision (`revision` 0: the latest), read in pages of
  // kRangePageSize keys all pinned to the revision of the first page.
  Result<PrefixSnapshot> range_prefix(const std::string& prefix, int64_t revision = 0);
  static constexpr int64_t kRangePageSize = 1000;

  // A watch on every key under `prefix`, from `start_revision` (a snapshot's revision + 1) on,
  // with previous values not requested. Returns once the server confirmed it (or it was
  // refused: a start below the compaction gives a watch whose first batch is `compacted`).
  Result<std::unique_ptr<EtcdWatch>> watch_prefix(const std::string& prefix, int64_t start_revision);

  // Leases, for the node registry.
  Result<int64_t> lease_grant(int64_t ttl_seconds);  // the lease id
  // One keep-alive: the lease's remaining TTL in seconds; 0 when it has expired (or never
  // existed): grant a new one and put the keys again.
  Result<int64_t> lease_keep_alive_once(int64_t lease_id);
  Status lease_revoke(int64_t lease_id);

  // Writes; each returns the store's revision after it.
  Result<int64_t> put(const std::string& key, const std::string& value, int64_t lease_id = 0);
  Result<int64_t> delete_key(const std::string& key);

  // The endpoint the last call went to (or the next will), for logs and status.
  const std::string& current_endpoint() const;

 private:
  explicit EtcdClient(std::unique_ptr<Connection> conn);
  std::unique_ptr<Connection> conn_;
};

}  // namespace netd::fleet
