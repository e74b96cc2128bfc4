// Real etcd servers for the fleet tests and benchmarks: the Debian package's /usr/bin/etcd on
// 127.0.0.1 with free ports (never 2379/2380, the packaged service's) and a temp data dir; one
// member or a cluster of several on this host. Killed by pid (SIGKILL, as a crash), restarted
// on the same ports and data, readiness polled on /health. Its logs stay in the data dir.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "lib/core/result.h"
#include "tests/fixtures/process.h"

namespace netd::testing {

struct EtcdClusterSpec {
  int members = 1;
  // --experimental-watch-progress-notify-interval (etcd's default is 10 minutes).
  std::chrono::milliseconds progress_notify_interval{10 * 60 * 1000};
  std::vector<std::string> extra_args;
  // A directory made by make_test_certs (test_certs.h): clients must then use https and
  // present a certificate signed by its CA (--client-cert-auth). Empty: plain http.
  std::string tls_dir;
};

class EtcdCluster {
 public:
  // Starts every member and waits until each answers /health (it has a leader).
  static Result<EtcdCluster> start(const EtcdClusterSpec& spec = {});
  EtcdCluster(EtcdCluster&& other) noexcept;
  EtcdCluster& operator=(EtcdCluster&&) = delete;
  ~EtcdCluster();  // kills every member, removes the data

  size_t size() const { return members_.size(); }
  // "http://127.0.0.1:PORT" of member i, or of all (for EtcdOptions::endpoints / --endpoints).
  std::string endpoint(size_t i) const;
  std::vector<std::string> endpoints() const;
  std::string endpoints_csv() const;

  // SIGKILL member i and reap it.
  Status kill(size_t i);
  // Starts member i again with its data dir and ports, waits for its /health.
  Status restart(size_t i);
  bool running(size_t i) const { return members_[i].pid > 0; }
  pid_t pid(size_t i) const { return members_[i].pid; }
  // Waits until member i answers /health with "true" (up and with a leader).
  Status wait_healthy(size_t i, std::chrono::milliseconds timeout);
  // The index of the current leader, as `etcdctl endpoint status` of the running members says.
  Result<size_t> leader();

  // `etcdctl --endpoints=<all running> args...` (etcdctl 3.4 speaks v3 by default).
  ProcessResult etcdctl(const std::vector<std::string>& args) const;

  const std::string& data_root() const { return root_; }

 private:
  struct Member {
    std::string name;
    int client_port = 0;
    int peer_port = 0;
    int metrics_port = 0;  // plain-http /health, also when the client URLs are https
    std::string data_dir;
    pid_t pid = -1;
  };
  EtcdCluster() = default;
  Status launch(size_t i, bool existing);
  std::vector<std::string> running_endpoints() const;

  EtcdClusterSpec spec_;
  std::string root_;  // temp dir: one data dir and log per member
  std::string token_;
  std::vector<Member> members_;
};

}  // namespace netd::testing
