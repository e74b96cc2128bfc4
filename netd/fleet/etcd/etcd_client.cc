#include "netd/fleet/etcd/etcd_client.h"

#include <algorithm>

#include "netd/fleet/etcd/connection.h"
#include "netd/fleet/etcd/convert.h"
#include "netd/fleet/etcd/endpoint.h"
#include "netd/fleet/etcd/watch_stream.h"

namespace netd::fleet {

EtcdClient::EtcdClient(std::unique_ptr<Connection> conn) : conn_(std::move(conn)) {}
EtcdClient::~EtcdClient() = default;

Result<std::unique_ptr<EtcdClient>> EtcdClient::connect(const EtcdOptions& options) {
  NETD_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, Connection::create(options));
  return std::unique_ptr<EtcdClient>(new EtcdClient(std::move(conn)));
}

const std::string& EtcdClient::current_endpoint() const { return conn_->current_url(); }

Result<PrefixSnapshot> EtcdClient::range_prefix(const std::string& prefix, int64_t revision) {
  PrefixSnapshot snapshot;
  etcdserverpb::RangeRequest request;
  request.set_key(prefix);
  request.set_range_end(prefix_range_end(prefix));
  request.set_limit(kRangePageSize);
  request.set_revision(revision);
  while (true) {
    etcdserverpb::RangeResponse response;
    NETD_TRY(conn_->call("Range " + prefix, [&](EndpointConn& ec, GrpcClock::time_point deadline) {
      grpc::ClientContext ctx;
      conn_->prepare(ctx, deadline);
      return ec.kv->Range(&ctx, request, &response);
    }));
    // Later pages read at the first page's revision, so the pages make one consistent snapshot
    // even while keys are written between them.
    if (snapshot.revision == 0) {
      snapshot.revision = revision != 0 ? revision : response.header().revision();
      request.set_revision(snapshot.revision);
    }
    for (const mvccpb::KeyValue& kv : response.kvs()) snapshot.kvs.push_back(key_value_of(kv));
    if (!response.more() || response.kvs().empty()) break;
    // The next page starts right after the last key of this one ("\0" appended: the next key).
    request.set_key(response.kvs(response.kvs_size() - 1).key() + std::string(1, '\0'));
  }
  return snapshot;
}

Result<std::unique_ptr<EtcdWatch>> EtcdClient::watch_prefix(const std::string& prefix, int64_t start_revision) {
  etcdserverpb::WatchRequest create;
  etcdserverpb::WatchCreateRequest* c = create.mutable_create_request();
  c->set_key(prefix);
  c->set_range_end(prefix_range_end(prefix));
  c->set_start_revision(start_revision);
  c->set_progress_notify(true);
  std::unique_ptr<WatchStream> stream;
  NETD_TRY(conn_->call("Watch " + prefix, [&](EndpointConn& ec, GrpcClock::time_point deadline) {
    return WatchStream::open(ec, *conn_, create, deadline, &stream);
  }));
  return std::make_unique<EtcdWatch>(std::move(stream));
}

Result<int64_t> EtcdClient::lease_grant(int64_t ttl_seconds) {
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(ttl_seconds);
  etcdserverpb::LeaseGrantResponse response;
  NETD_TRY(conn_->call("LeaseGrant", [&](EndpointConn& ec, GrpcClock::time_point deadline) {
    grpc::ClientContext ctx;
    conn_->prepare(ctx, deadline);
    return ec.lease->LeaseGrant(&ctx, request, &response);
  }));
  if (!response.error().empty()) return make_error(EIO, "etcd LeaseGrant: " + response.error());
  return response.id();
}

Result<int64_t> EtcdClient::lease_keep_alive_once(int64_t lease_id) {
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(lease_id);
  etcdserverpb::LeaseKeepAliveResponse response;
  NETD_TRY(conn_->call("LeaseKeepAlive", [&](EndpointConn& ec, GrpcClock::time_point deadline) {
    // LeaseKeepAlive is a stream; one request and one answer, then close our side.
    grpc::ClientContext ctx;
    conn_->prepare(ctx, deadline);
    auto stream = ec.lease->LeaseKeepAlive(&ctx);
    bool answered = stream->Write(request) && stream->Read(&response);
    stream->WritesDone();
    grpc::Status status = stream->Finish();
    if (status.ok() && !answered) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "keep-alive stream closed without an answer");
    }
    return status;
  }));
  return std::max<int64_t>(response.ttl(), 0);  // etcd answers TTL 0 (or -1) for an unknown lease
}

Status EtcdClient::lease_revoke(int64_t lease_id) {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(lease_id);
  etcdserverpb::LeaseRevokeResponse response;
  return conn_->call("LeaseRevoke", [&](EndpointConn& ec, GrpcClock::time_point deadline) {
    grpc::ClientContext ctx;
    conn_->prepare(ctx, deadline);
    return ec.lease->LeaseRevoke(&ctx, request, &response);
  });
}

Result<int64_t> EtcdClient::put(const std::string& key, const std::string& value, int64_t lease_id) {
  etcdserverpb::PutRequest request;
  request.set_key(key);
  request.set_value(value);
  request.set_lease(lease_id);
  etcdserverpb::PutResponse response;
  NETD_TRY(conn_->call("Put " + key, [&](EndpointConn& ec, GrpcClock::time_point deadline) {
    grpc::ClientContext ctx;
    conn_->prepare(ctx, deadline);
    return ec.kv->Put(&ctx, request, &response);
  }));
  return response.header().revision();
}

Result<int64_t> EtcdClient::delete_key(const std::string& key) {
  etcdserverpb::DeleteRangeRequest request;
  request.set_key(key);
  etcdserverpb::DeleteRangeResponse response;
  NETD_TRY(conn_->call("DeleteRange " + key, [&](EndpointConn& ec, GrpcClock::time_point deadline) {
    grpc::ClientContext ctx;
    conn_->prepare(ctx, deadline);
    return ec.kv->DeleteRange(&ctx, request, &response);
  }));
  return response.header().revision();
}

}  // namespace netd::fleet
