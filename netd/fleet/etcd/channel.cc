#include "netd/fleet/etcd/channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <fstream>
#include <sstream>

namespace netd::fleet {

namespace {

Result<std::string> read_pem(const std::string& what, const std::string& path) {
  if (path.empty()) return std::string();
  std::ifstream in(path, std::ios::binary);
  if (!in) return errno_error("etcd " + what + " " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().empty()) return make_error(EINVAL, "etcd " + what + " " + path + ": empty file");
  return text.str();
}

}  // namespace

Result<TlsMaterial> read_tls_material(const std::string& ca_file, const std::string& cert_file,
                                      const std::string& key_file) {
  if (cert_file.empty() != key_file.empty()) {
    return make_error(EINVAL, "etcd client certificate and key go together (got only one of them)",
                      ErrorKind::kInvalidArgument);
  }
  TlsMaterial tls;
  NETD_ASSIGN_OR_RETURN(tls.ca_pem, read_pem("CA file", ca_file));
  NETD_ASSIGN_OR_RETURN(tls.cert_pem, read_pem("client certificate", cert_file));
  NETD_ASSIGN_OR_RETURN(tls.key_pem, read_pem("client key", key_file));
  return tls;
}

std::shared_ptr<grpc::Channel> make_channel(const Endpoint& endpoint, const TlsMaterial& tls) {
  grpc::ChannelArguments args;
  // Each client its own connection: gRPC would otherwise share one TCP connection between all
  // channels to the same target in the process (the 200 simulated nodes of the bench, the
  // tests' several clients), which is not what a node sees.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // A peer that vanished without a FIN (power loss, a cut cable) is noticed by HTTP/2 pings
  // within ~15 s while a watch is open. Not without calls: etcd's default keepalive policy
  // (--grpc-keepalive-min-time 5s, no pings without streams) answers those with GOAWAY.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  // gRPC's default reconnect back-off grows to 120 s: an etcd restarted after a minute would
  // then stay unused for up to two more. 1 s keeps "etcd is back" within a second.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // Despite its name, gRPC uses this as the time a connection attempt (TCP, TLS, HTTP/2
  // settings) may take (default 20 s): an unreachable member is given up on and retried after 3 s.
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 3000);
  // Range pages are bounded by count, not bytes (values go up to etcd's 1.5 MiB request cap), so
  // a page may exceed gRPC's default 4 MiB receive limit.
  args.SetMaxReceiveMessageSize(256 << 20);
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (endpoint.tls) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = tls.ca_pem;  // empty: gRPC's default roots
    ssl.pem_cert_chain = tls.cert_pem;
    ssl.pem_private_key = tls.key_pem;
    credentials = grpc::SslCredentials(ssl);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  return grpc::CreateCustomChannel(endpoint.target, credentials, args);
}

}  // namespace netd::fleet
