#include "netd/fleet/etcd/connection.h"

#include <algorithm>
#include <thread>

#include "netd/fleet/etcd/grpc_error.h"
#include "netd/fleet/etcd/grpc_log.h"

namespace netd::fleet {

Result<std::unique_ptr<Connection>> Connection::create(const EtcdOptions& options) {
  if (options.endpoints.empty()) {
    return make_error(EINVAL, "etcd: no endpoints configured", ErrorKind::kInvalidArgument);
  }
  if (options.user.empty() != options.password.empty()) {
    return make_error(EINVAL, "etcd user and password go together (got only one of them)",
                      ErrorKind::kInvalidArgument);
  }
  NETD_ASSIGN_OR_RETURN(TlsMaterial tls, read_tls_material(options.ca_file, options.cert_file, options.key_file));
  quiet_grpc_logging();
  std::unique_ptr<Connection> conn(new Connection(options));
  for (const std::string& url : options.endpoints) {
    NETD_ASSIGN_OR_RETURN(Endpoint endpoint, parse_endpoint(url));
    EndpointConn ec;
    ec.channel = make_channel(endpoint, tls);
    ec.endpoint = std::move(endpoint);
    ec.kv = etcdserverpb::KV::NewStub(ec.channel);
    ec.watch = etcdserverpb::Watch::NewStub(ec.channel);
    ec.lease = etcdserverpb::Lease::NewStub(ec.channel);
    ec.auth = etcdserverpb::Auth::NewStub(ec.channel);
    conn->conns_.push_back(std::move(ec));
  }
  return conn;
}

// Wait-for-ready: a call on a reconnecting channel waits for it (up to the attempt's deadline)
// instead of failing at once. Fail-fast calls were tried: after a restart of etcd they kept
// failing with the previous connection error for seconds while the channel was reachable
// again. What wait-for-ready hides (why the channel is not connected) connect_failure() adds.
void Connection::prepare(grpc::ClientContext& ctx, std::optional<GrpcClock::time_point> deadline) const {
  if (deadline) ctx.set_deadline(*deadline);
  ctx.set_wait_for_ready(true);
  if (!token_.empty()) ctx.AddMetadata("token", token_);
}

// With several endpoints an attempt gets a share of the call's time, so a member that accepts
// connections but never answers (overloaded, stopped with SIGSTOP) leaves time for the others.
std::chrono::milliseconds Connection::attempt_budget() const {
  if (conns_.size() == 1) return options_.call_timeout;
  return std::max(options_.call_timeout / static_cast<int>(conns_.size()), std::chrono::milliseconds(1500));
}

// Skips endpoints whose channel is known to be failing, if another one is not: after a member
// is killed, the next call goes straight to a live one instead of spending its attempt there.
// Why `conn` is not connected, in gRPC's words ("failed to connect to all addresses; last
// error: ... certificate verify failed"): a fail-fast call on a channel that failed to connect
// returns at once with it. Empty if the channel is still connecting or that call got through.
std::string Connection::connect_failure(EndpointConn& conn) const {
  grpc::ClientContext ctx;
  ctx.set_deadline(GrpcClock::now() + std::chrono::milliseconds(200));
  etcdserverpb::RangeRequest request;
  request.set_key("/");
  request.set_limit(1);
  request.set_serializable(true);
  etcdserverpb::RangeResponse response;
  grpc::Status status = conn.kv->Range(&ctx, request, &response);
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ? status.error_message() : std::string();
}

EndpointConn& Connection::pick() {
  for (size_t i = 0; i < conns_.size(); ++i) {
    EndpointConn& conn = conns_[current_];
    if (conn.channel->GetState(/*try_to_connect=*/true) != GRPC_CHANNEL_TRANSIENT_FAILURE) return conn;
    rotate();
  }
  return conns_[current_];  // every one is failing: the retry loop waits on the current one
}

grpc::Status Connection::authenticate(EndpointConn& conn, GrpcClock::time_point deadline) {
  grpc::ClientContext ctx;
  ctx.set_deadline(deadline);
  ctx.set_wait_for_ready(true);
  etcdserverpb::AuthenticateRequest request;
  request.set_name(options_.user);
  request.set_password(options_.password);
  etcdserverpb::AuthenticateResponse response;
  grpc::Status status = conn.auth->Authenticate(&ctx, request, &response);
  if (status.ok()) token_ = response.token();
  return status;
}

Status Connection::call(const std::string& what, const Attempt& attempt) {
  const auto deadline = GrpcClock::now() + options_.call_timeout;
  bool reauthenticated = false;
  int attempts = 0;
  while (true) {
    EndpointConn& conn = pick();
    const auto attempt_deadline = std::min(deadline, GrpcClock::now() + attempt_budget());
    ++attempts;
    std::string failed = what;
    grpc::Status status;
    if (!options_.user.empty() && token_.empty()) {
      status = authenticate(conn, attempt_deadline);
      if (!status.ok()) failed = "Authenticate as '" + options_.user + "' (for " + what + ")";
    }
    if (status.ok()) status = attempt(conn, attempt_deadline);
    if (status.ok()) return ok_status();
    if (!options_.user.empty() && needs_reauth(status) && !reauthenticated && failed == what) {
      token_.clear();
      reauthenticated = true;
      continue;
    }
    const bool attempt_timed_out =
        status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED && attempt_deadline < deadline;
    if ((!is_retryable(status) && !attempt_timed_out) || GrpcClock::now() >= deadline) {
      Error error = status_error(failed, conn.endpoint.url, status);
      // etcd answers a wrong user or password with INVALID_ARGUMENT; it is a refusal of who we are.
      if (failed != what && status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) error.code = EACCES;
      if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
          conn.channel->GetState(false) != GRPC_CHANNEL_READY) {
        std::string why = connect_failure(conn);
        error.message += why.empty() ? " (not connected)" : " (not connected: " + why + ")";
      }
      if (attempts > 1) error.message += " (after " + std::to_string(attempts) + " attempts)";
      return error;
    }
    rotate();
    // Every endpoint refused at once (no leader anywhere yet): pause before the next round
    // instead of spinning; wait-for-ready covers the case of a channel still connecting.
    if (attempts % conns_.size() == 0) {
      auto pause = std::min<GrpcClock::duration>(std::chrono::milliseconds(50 * std::min(attempts, 10)),
                                                 deadline - GrpcClock::now());
      if (pause > GrpcClock::duration::zero()) std::this_thread::sleep_for(pause);
    }
  }
}

}  // namespace netd::fleet
