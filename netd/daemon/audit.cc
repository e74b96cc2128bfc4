#include "netd/daemon/audit.h"

#include <unistd.h>

namespace netd::daemon {

namespace {
constexpr size_t kMaxParamsChars = 512;  // requests may be 64 KiB; the log line stays readable
}

std::string format_audit(const server::AuditRecord& r) {
  std::string params = r.parameters.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
  if (params.size() > kMaxParamsChars) params = params.substr(0, kMaxParamsChars) + "...";
  std::string line = "audit uid=" + std::to_string(r.peer.uid) + " pid=" + std::to_string(r.peer.pid) +
                     " slice=" + (r.slice.empty() ? "-" : r.slice) + " method=" + r.method + " params=" + params;
  if (r.error == nullptr) {
    line += " result=ok";
  } else {
    std::string reason = nlohmann::json(r.error->message).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
    line += " result=" + server::varlink_error_name(*r.error) + " errno=" + std::to_string(r.error->code) +
            " reason=" + reason;
  }
  line += " us=" + std::to_string(r.micros) + "\n";
  return line;
}

void write_audit(const server::AuditRecord& record, FILE* sink) {
  std::string line = format_audit(record);
  (void)!write(fileno(sink), line.data(), line.size());
}

}  // namespace netd::daemon
