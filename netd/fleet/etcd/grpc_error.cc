#include "netd/fleet/etcd/grpc_error.h"

namespace netd::fleet {

int errno_of(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OUT_OF_RANGE: return ERANGE;
    case grpc::StatusCode::UNAVAILABLE: return ECONNREFUSED;
    case grpc::StatusCode::DEADLINE_EXCEEDED: return ETIMEDOUT;
    case grpc::StatusCode::UNAUTHENTICATED: return EACCES;
    case grpc::StatusCode::PERMISSION_DENIED: return EPERM;
    case grpc::StatusCode::CANCELLED: return ECANCELED;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION: return EINVAL;
    case grpc::StatusCode::NOT_FOUND: return ENOENT;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return ENOSPC;
    default: return EIO;
  }
}

const char* status_code_name(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "UNKNOWN_CODE";
  }
}

Error status_error(const std::string& call, const std::string& endpoint_url, const grpc::Status& status) {
  return make_error(errno_of(status.error_code()), "etcd " + call + " on " + endpoint_url + ": " +
                                                       status_code_name(status.error_code()) + ": " +
                                                       status.error_message());
}

bool is_retryable(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE;
}

bool needs_reauth(const grpc::Status& status) {
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) return true;
  // etcd's ErrGRPCAuthOldRevision: the token predates a change to the auth store.
  return status.error_code() == grpc::StatusCode::INVALID_ARGUMENT &&
         status.error_message().find("revision of auth store is old") != std::string::npos;
}

}  // namespace netd::fleet
