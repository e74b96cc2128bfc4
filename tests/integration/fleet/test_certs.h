// A throw-away PKI for the TLS tests, made with the openssl CLI: a CA, a server certificate for
// 127.0.0.1 (serverAuth and clientAuth: etcd also dials its peers with it), a client
// certificate, and a second CA that signed nothing of these (for "wrong CA").
#pragma once

#include <string>

#include "lib/core/result.h"

namespace netd::testing {

struct TestCerts {
  std::string dir;
  std::string ca() const { return dir + "/ca.pem"; }
  std::string server_cert() const { return dir + "/server.pem"; }
  std::string server_key() const { return dir + "/server.key"; }
  std::string client_cert() const { return dir + "/client.pem"; }
  std::string client_key() const { return dir + "/client.key"; }
  std::string other_ca() const { return dir + "/other-ca.pem"; }
};

// Writes them into `dir` (which must exist).
Result<TestCerts> make_test_certs(const std::string& dir);

}  // namespace netd::testing
