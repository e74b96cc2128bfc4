#include "netd/fleet/etcd/etcd_watch.h"

#include "netd/fleet/etcd/watch_stream.h"

namespace netd::fleet {

EtcdWatch::EtcdWatch(std::unique_ptr<WatchStream> stream) : stream_(std::move(stream)) {}
EtcdWatch::~EtcdWatch() = default;

Result<std::optional<WatchBatch>> EtcdWatch::next(std::chrono::milliseconds timeout) {
  return stream_->next(timeout);
}

Status EtcdWatch::request_progress() { return stream_->request_progress(); }

void EtcdWatch::cancel() { stream_->cancel(); }

const std::string& EtcdWatch::endpoint() const { return stream_->url(); }

}  // namespace netd::fleet
