#include "tools/sliceip/exec/netd_link.h"

#include <cerrno>
#include <string_view>

namespace sliceip::exec {

namespace {
constexpr std::string_view kNetdPrefix = "io.netd.";
}

bool is_netd_refusal(const netd::Error& error) { return error.message.starts_with(kNetdPrefix); }

int refusal_errno(const netd::Error& error) {
  if (!is_netd_refusal(error)) return EPERM;
  if (error.message.starts_with("io.netd.ResourceExhausted")) return ENOBUFS;
  return error.code > 0 ? error.code : EPERM;
}

std::string refusal_reason(const netd::Error& error) {
  if (!is_netd_refusal(error)) return "netd unreachable: " + error.message;
  size_t colon = error.message.find(": ");
  return colon == std::string::npos ? error.message : error.message.substr(colon + 2);
}

netd::Status NetdLink::ensure_connected() {
  if (client_) return netd::ok_status();
  NETD_ASSIGN_OR_RETURN(netd::Client fresh, netd::Client::connect(netd::Client::socket_path(socket_option_)));
  client_.emplace(std::move(fresh));
  return netd::ok_status();
}

}  // namespace sliceip::exec
