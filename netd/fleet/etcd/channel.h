// One gRPC channel to one etcd endpoint, with the transport settings the fleet needs.
// Private to netd_etcd.
#pragma once

#include <grpcpp/channel.h>

#include <memory>

#include "lib/core/result.h"
#include "netd/fleet/etcd/endpoint.h"

namespace netd::fleet {

// PEM texts read from the EtcdOptions files once, so a channel re-made after a failure does not
// depend on the files still being readable (netd may have dropped privileges since).
struct TlsMaterial {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
};

Result<TlsMaterial> read_tls_material(const std::string& ca_file, const std::string& cert_file,
                                      const std::string& key_file);

std::shared_ptr<grpc::Channel> make_channel(const Endpoint& endpoint, const TlsMaterial& tls);

}  // namespace netd::fleet
