#include "netd/server/fd_closer.h"

namespace netd::server {

FdCloser::FdCloser() : thread_([this] { run(); }) {}

FdCloser::~FdCloser() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void FdCloser::close_later(std::vector<UniqueFd> fds) {
  if (fds.empty()) return;
  {
    std::lock_guard lock(mutex_);
    for (auto& fd : fds) queue_.push_back(std::move(fd));
  }
  wake_.notify_one();
}

void FdCloser::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    std::deque<UniqueFd> batch;
    batch.swap(queue_);
    lock.unlock();
    batch.clear();  // the closes, outside the lock
    lock.lock();
  }
}

}  // namespace netd::server
