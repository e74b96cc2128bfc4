// The endpoints of one EtcdClient, which one is in use, the auth token, and the retry loop
// every call goes through: rotate to the next endpoint on UNAVAILABLE, authenticate when there
// is no token and again once when the server refuses it, all within the call's one deadline.
// Private to netd_etcd.
#pragma once

#include <grpcpp/client_context.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "lib/core/result.h"
#include "netd/fleet/etcd/channel.h"
#include "netd/fleet/etcd/endpoint.h"
#include "netd/fleet/etcd/etcd_options.h"

namespace netd::fleet {

// gRPC deadlines are system_clock time points.
using GrpcClock = std::chrono::system_clock;

struct EndpointConn {
  Endpoint endpoint;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease;
  std::unique_ptr<etcdserverpb::Auth::Stub> auth;
};

class Connection {
 public:
  // Local only (parses endpoints, reads the TLS files): never fails because etcd is down, so
  // netd can start on its last good policy and connect later.
  static Result<std::unique_ptr<Connection>> create(const EtcdOptions& options);

  // One try of a call on `conn`, to finish by `deadline`. Returns the call's status.
  using Attempt = std::function<grpc::Status(EndpointConn& conn, GrpcClock::time_point deadline)>;
  // Runs attempts until one succeeds, fails for good, or the call_timeout is spent. `what`
  // names the call in the error ("Range /netd/").
  Status call(const std::string& what, const Attempt& attempt);

  // Sets up a context for an attempt: the auth token, wait-for-ready (a reconnecting channel is
  // waited for, up to the deadline, instead of failing at once), the deadline if given.
  void prepare(grpc::ClientContext& ctx, std::optional<GrpcClock::time_point> deadline) const;

  const std::string& current_url() const { return conns_[current_].endpoint.url; }

 private:
  explicit Connection(const EtcdOptions& options) : options_(options) {}
  EndpointConn& pick();
  void rotate() { current_ = (current_ + 1) % conns_.size(); }
  grpc::Status authenticate(EndpointConn& conn, GrpcClock::time_point deadline);
  std::string connect_failure(EndpointConn& conn) const;
  std::chrono::milliseconds attempt_budget() const;

  EtcdOptions options_;
  std::vector<EndpointConn> conns_;
  size_t current_ = 0;
  std::string token_;  // empty: not authenticated (or no auth)
};

}  // namespace netd::fleet
