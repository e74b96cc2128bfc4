// gRPC statuses as netd Errors: the message names the call, the endpoint and the status
// ("etcd Range on http://10.0.0.1:2379: UNAVAILABLE: failed to connect to all addresses"), and
// the errno lets the fleet watcher tell apart what it must handle differently (see kErr*).
// Private to netd_etcd: the public headers carry no gRPC type.
#pragma once

#include <grpcpp/support/status.h>

#include <cerrno>
#include <string>

#include "lib/core/result.h"

namespace netd::fleet {

// errno per status code, the ones callers act on:
//   ERANGE        OUT_OF_RANGE: a revision below the compaction (re-read the prefix)
//   ECONNREFUSED  UNAVAILABLE: no endpoint answered, or the member has no leader (retry later)
//   ETIMEDOUT     DEADLINE_EXCEEDED
//   EACCES        UNAUTHENTICATED (bad user/password or token), EPERM  PERMISSION_DENIED
//   ECANCELED     CANCELLED (EtcdWatch::cancel), EINVAL INVALID_ARGUMENT / FAILED_PRECONDITION,
//   ENOENT        NOT_FOUND (an unknown lease), ENOSPC RESOURCE_EXHAUSTED (a too large value),
//   EIO           anything else.
int errno_of(grpc::StatusCode code);
const char* status_code_name(grpc::StatusCode code);

Error status_error(const std::string& call, const std::string& endpoint_url, const grpc::Status& status);

// Worth trying again on another (or the same, reconnected) endpoint: the request most likely
// never reached a working member. etcd's own "no leader" and "request timed out" are UNAVAILABLE.
bool is_retryable(const grpc::Status& status);

// The auth token expired, was issued by a restarted member, or auth was re-enabled: authenticate
// again and retry once (the Go client does the same).
bool needs_reauth(const grpc::Status& status);

}  // namespace netd::fleet
