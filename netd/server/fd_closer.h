// FdCloser: closes file descriptors on a thread of its own. Closing the last reference to
// some kernel objects waits: a packet socket's release waits for an RCU grace period
// (synchronize_net, ~0.1 ms, more under load). After handing an fd over, netd's copy is
// often the last one left (the client already closed its copy), and the single event loop
// must not sit in that wait while other clients queue.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "lib/core/unique_fd.h"

namespace netd::server {

class FdCloser {
 public:
  FdCloser();
  // Closes what is still queued, then joins the thread.
  ~FdCloser();
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

  void close_later(std::vector<UniqueFd> fds);

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<UniqueFd> queue_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace netd::server
