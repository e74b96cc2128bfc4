// Lets a netd in a testbed's host netns reach the test's etcd, which listens on 127.0.0.1 of the
// test's own netns: a listener on 127.0.0.1:PORT inside the netns (the same port, so netd's
// etcd_endpoints are the cluster's own URLs), each connection forwarded to 127.0.0.1:PORT here.
// A socket belongs to the netns it was made in, so one thread can listen there and connect here.
// When etcd goes, its side of every relayed connection closes, and so does netd's.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lib/core/result.h"
#include "lib/core/unique_fd.h"

namespace netd::testing {

class NetnsRelay {
 public:
  static Result<std::unique_ptr<NetnsRelay>> start(const std::string& netns_path, const std::vector<int>& ports);
  ~NetnsRelay();  // stops accepting, closes every relayed connection, joins its threads
  NetnsRelay(const NetnsRelay&) = delete;
  NetnsRelay& operator=(const NetnsRelay&) = delete;

 private:
  NetnsRelay() = default;
  void accept_loop();
  void pump(int a, int b);

  std::vector<std::pair<UniqueFd, int>> listeners_;  // fd in the netns, the port
  UniqueFd stop_read_, stop_write_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::vector<int> open_;  // relayed sockets, shut down on stop
  std::vector<std::thread> pumps_;
  std::thread acceptor_;
};

}  // namespace netd::testing
