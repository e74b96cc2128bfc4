// gRPC's own log lines ("E1207 ... Handshake failed ...", one per reconnect attempt while etcd is
// unreachable) go to the process's stderr, which for netd is the journal: they would flood it
// and bypass netd's logging. netd_etcd drops them; every failure they describe also reaches the
// caller as an Error with gRPC's reason. NETD_GRPC_LOG=1 in the environment keeps them (debugging).
// Private to netd_etcd.
#pragma once

namespace netd::fleet {

// Idempotent and thread-safe; called before the first channel is made.
void quiet_grpc_logging();

}  // namespace netd::fleet
