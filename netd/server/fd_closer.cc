#include "netd/server/fd_closer.h"

#include <pthread.h>
#include <signal.h>

#include <functional>

namespace netd::server {

namespace {

// The thread must never take a process signal: netd reads SIGHUP/SIGTERM from a signalfd in
// its main thread, and a thread that has them unblocked would get the default action
// (terminate). A new thread inherits the creator's mask, so block everything around the
// creation.
std::thread start_with_signals_blocked(std::function<void()> body) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  std::thread t(std::move(body));
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return t;
}

}  // namespace

FdCloser::FdCloser() : thread_(start_with_signals_blocked([this] { run(); })) {}

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
