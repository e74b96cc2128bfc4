#include "netd/fleet/etcd/watch_stream.h"

#include "netd/fleet/etcd/convert.h"
#include "netd/fleet/etcd/grpc_error.h"

namespace netd::fleet {

namespace {

void* tag_ptr(size_t tag) { return reinterpret_cast<void*>(tag); }

GrpcClock::time_point forever() { return GrpcClock::time_point::max(); }

}  // namespace

grpc::Status WatchStream::open(EndpointConn& conn, const Connection& connection,
                               const etcdserverpb::WatchRequest& create, GrpcClock::time_point deadline,
                               std::unique_ptr<WatchStream>* out) {
  std::unique_ptr<WatchStream> s(new WatchStream(conn.endpoint.url));
  // No context deadline: the stream lives until cancelled; `deadline` bounds only the opening.
  connection.prepare(s->ctx_, std::nullopt);
  // etcd's require-leader: a member cut off from quorum ends the watch ("no leader", ~3 s)
  // instead of keeping it open and silent while the rest of the cluster moves on.
  s->ctx_.AddMetadata("hasleader", "true");
  s->rw_ = conn.watch->PrepareAsyncWatch(&s->ctx_, &s->cq_);
  s->start_op(kStart);
  s->rw_->StartCall(tag_ptr(kStart));
  std::optional<bool> ok = s->wait_for(kStart, deadline);
  if (ok.value_or(false)) {
    s->request_ = create;
    s->start_op(kWrite);
    s->rw_->Write(s->request_, tag_ptr(kWrite));
    ok = s->wait_for(kWrite, deadline);
  }
  while (ok.value_or(false)) {  // read until the confirmation; nothing else can come first
    s->start_op(kRead);
    s->rw_->Read(&s->response_, tag_ptr(kRead));
    ok = s->wait_for(kRead, deadline);
    if (ok.value_or(false) && s->response_.created()) {
      // Refused at creation (permission denied, ...): the refusal is the watch's first batch.
      if (s->response_.canceled()) s->queued_ = batch_of(s->response_);
      *out = std::move(s);
      return grpc::Status::OK;
    }
  }
  if (!ok) {  // out of time: cancel, so the failed ops complete and finish() reports it
    s->ctx_.TryCancel();
    s->finish();
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "no confirmation of the watch in time");
  }
  return s->finish();
}

WatchStream::~WatchStream() {
  if (rw_ && !finished_) {
    ctx_.TryCancel();
    finish();
  }
  cq_.Shutdown();
  void* tag;
  bool ok;
  while (cq_.Next(&tag, &ok)) {
  }
}

void WatchStream::start_op(Tag tag) {
  pending_[tag] = true;
}

std::optional<bool> WatchStream::wait_for(Tag tag, GrpcClock::time_point deadline) {
  while (pending_[tag]) {
    void* got = nullptr;
    bool ok = false;
    switch (cq_.AsyncNext(&got, &ok, deadline)) {
      case grpc::CompletionQueue::TIMEOUT: return std::nullopt;
      case grpc::CompletionQueue::SHUTDOWN: return false;
      case grpc::CompletionQueue::GOT_EVENT: {
        auto done = reinterpret_cast<size_t>(got);
        pending_[done] = false;
        ok_[done] = ok;
        break;
      }
    }
  }
  return ok_[tag];
}

grpc::Status WatchStream::finish() {
  // Finish may only be called with no read or write in flight; after a failure (or TryCancel)
  // they complete at once with !ok.
  wait_for(kStart, forever());
  wait_for(kRead, forever());
  wait_for(kWrite, forever());
  grpc::Status status;
  start_op(kFinish);
  rw_->Finish(&status, tag_ptr(kFinish));
  wait_for(kFinish, forever());
  finished_ = true;
  return status;
}

// A batch the server ended the watch with is returned once; later calls get an error saying
// so, and the stream is cancelled now, so the member frees it before the caller drops us.
Result<std::optional<WatchBatch>> WatchStream::deliver(WatchBatch batch) {
  if (batch.canceled) {
    ended_ = batch.compacted ? make_error(ERANGE, "etcd Watch on " + url_ + ": canceled: compacted at revision " +
                                                      std::to_string(batch.compact_revision))
                             : make_error(EIO, "etcd Watch on " + url_ + ": canceled: " + batch.cancel_reason);
    ctx_.TryCancel();
  }
  return std::optional<WatchBatch>(std::move(batch));
}

Result<std::optional<WatchBatch>> WatchStream::next(std::chrono::milliseconds timeout) {
  if (ended_) return *ended_;
  if (queued_) {
    WatchBatch batch = std::move(*queued_);
    queued_.reset();
    return deliver(std::move(batch));
  }
  if (!pending_[kRead]) {
    start_op(kRead);
    rw_->Read(&response_, tag_ptr(kRead));
  }
  std::optional<bool> ok = wait_for(kRead, GrpcClock::now() + timeout);
  if (!ok) return std::optional<WatchBatch>();
  if (!*ok) {
    grpc::Status status = finish();
    if (status.ok()) status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server closed the watch");
    ended_ = status_error("Watch", url_, status);
    return *ended_;
  }
  return deliver(batch_of(response_));
}

Status WatchStream::request_progress() {
  if (ended_) return *ended_;
  wait_for(kWrite, GrpcClock::now());  // collect a previous request's completion if it is in
  if (pending_[kWrite]) return ok_status();  // one is still on its way: its answer will do
  request_.Clear();
  request_.mutable_progress_request();
  start_op(kWrite);
  rw_->Write(request_, tag_ptr(kWrite));
  return ok_status();
}

}  // namespace netd::fleet
