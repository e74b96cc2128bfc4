// How netd reaches etcd: from the [netd] etcd_* keys of the local policy file.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace netd::fleet {

struct EtcdOptions {
  // "http://host:port" or "https://host:port"; the first is used until it fails with UNAVAILABLE,
  // then the next (a killed member, a member without quorum, a network cut).
  std::vector<std::string> endpoints;
  // For https endpoints: the CA that signed the servers' certificates (empty: the system's
  // roots), and a client certificate and its key (both or neither). Files, read at connect().
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  // etcd user and password (empty user: no etcd auth). The password itself, not a file: the
  // caller reads etcd_password_file.
  std::string user;
  std::string password;
  // Every blocking call's whole deadline, retries on other endpoints included.
  std::chrono::milliseconds call_timeout{5000};
};

}  // namespace netd::fleet
