#include "netd/fleet/etcd/grpc_log.h"

#include <grpc/support/log.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

namespace netd::fleet {

namespace {

void drop(gpr_log_func_args* /*args*/) {}

}  // namespace

void quiet_grpc_logging() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* keep = std::getenv("NETD_GRPC_LOG");
    if (keep == nullptr || std::strcmp(keep, "1") != 0) gpr_set_log_function(drop);
  });
}

}  // namespace netd::fleet
