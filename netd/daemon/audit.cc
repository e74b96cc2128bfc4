#include "netd/daemon/audit.h"

#include "netd/daemon/log.h"

namespace netd::daemon {

namespace {
constexpr size_t kMaxParamsChars = 512;  // requests may be 64 KiB; the log line stays readable

std::string quoted(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string format_audit(const server::AuditRecord& r) {
  std::string params = r.parameters.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
  if (params.size() > kMaxParamsChars) params = params.substr(0, kMaxParamsChars) + "...";
  std::string line = "audit uid=" + std::to_string(r.peer.uid) + " pid=" + std::to_string(r.peer.pid) +
                     " slice=" + (r.slice.empty() ? "-" : r.slice) + " method=" + r.method + " params=" + params;
  if (r.error == nullptr) {
    line += " result=ok";
  } else {
    line += " result=" + server::varlink_error_name(*r.error) + " errno=" + std::to_string(r.error->code) +
            " reason=" + quoted(r.error->message);
  }
  line += " us=" + std::to_string(r.micros) + "\n";
  return line;
}

void write_audit(const server::AuditRecord& record, FILE* sink) { write_line(sink, format_audit(record)); }

std::string format_connection_audit(const server::ConnectionRecord& r) {
  std::string line = "audit uid=" + std::to_string(r.peer.uid) + " pid=" + std::to_string(r.peer.pid) +
                     " connection=" + std::string(r.event) + " reason=" + quoted(r.reason);
  if (r.count > 1) line += " count=" + std::to_string(r.count);
  return line + "\n";
}

void write_connection_audit(const server::ConnectionRecord& record, FILE* sink) {
  write_line(sink, format_connection_audit(record));
}

}  // namespace netd::daemon
