// The gRPC side of an EtcdWatch: one Watch stream on one endpoint, driven through its own
// completion queue so that next() can wait with a timeout (the fleet thread also keeps the node
// lease alive) and cancel() can interrupt it from another thread. Private to netd_etcd.
#pragma once

#include <grpcpp/client_context.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/support/async_stream.h>

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "lib/core/result.h"
#include "netd/fleet/etcd/connection.h"
#include "netd/fleet/etcd/etcd_watch.h"

namespace netd::fleet {

class WatchStream {
 public:
  // Opens a stream on `conn` (its context set up by `connection`: token and
  // "hasleader"), sends `create` and waits until `deadline` for etcd to confirm the watch.
  // On failure `*out` stays empty and the status says why (UNAVAILABLE: try another endpoint).
  static grpc::Status open(EndpointConn& conn, const Connection& connection,
                           const etcdserverpb::WatchRequest& create, GrpcClock::time_point deadline,
                           std::unique_ptr<WatchStream>* out);
  ~WatchStream();

  Result<std::optional<WatchBatch>> next(std::chrono::milliseconds timeout);
  Status request_progress();
  void cancel() { ctx_.TryCancel(); }  // grpc::ClientContext::TryCancel is thread-safe
  const std::string& url() const { return url_; }

 private:
  enum Tag : size_t { kStart = 1, kRead, kWrite, kFinish, kTagCount };
  explicit WatchStream(std::string url) : url_(std::move(url)) {}

  Result<std::optional<WatchBatch>> deliver(WatchBatch batch);
  void start_op(Tag tag);
  // Pumps the queue until `tag` completes (its ok flag) or `deadline` passes (nullopt).
  std::optional<bool> wait_for(Tag tag, GrpcClock::time_point deadline);
  // The stream failed (an op returned !ok): waits for what is still in flight, then Finish.
  grpc::Status finish();

  const std::string url_;
  grpc::ClientContext ctx_;
  grpc::CompletionQueue cq_;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>> rw_;
  etcdserverpb::WatchRequest request_;     // gRPC reads it until the write completes
  etcdserverpb::WatchResponse response_;   // gRPC fills it until the read completes
  std::array<bool, kTagCount> pending_{};  // started, not yet completed
  std::array<bool, kTagCount> ok_{};       // how the last one of each completed
  std::optional<WatchBatch> queued_;       // a batch that came with the creation confirmation
  std::optional<Error> ended_;             // set once the stream is over: every next() returns it
  bool finished_ = false;
};

}  // namespace netd::fleet
