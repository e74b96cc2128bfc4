#include "lib/client/sockets.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <utility>

namespace netd {

namespace {

// One io.netd.Sockets call: the reply must be a success carrying exactly one fd, referred to as fd 0.
// Any other fds are closed with the Reply; on any failure, so is the one fd.
Result<std::pair<UniqueFd, nlohmann::json>> call_for_socket(Client& client, std::string_view method,
                                                            const nlohmann::json& params) {
  NETD_ASSIGN_OR_RETURN(Reply reply, client.call(method, params));
  if (!reply.ok()) return make_error(reply.error_errno(), reply.error + ": " + reply.reason());
  if (reply.fds.size() != 1)
    return make_error(EPROTO, std::string(method) + ": netd's reply carries " + std::to_string(reply.fds.size()) +
                                  " fds, not exactly one");
  auto fd = reply.parameters.find("fd");
  if (fd == reply.parameters.end() || !fd->is_number_integer() || fd->get<int64_t>() != 0)
    return make_error(EPROTO, std::string(method) + ": netd's reply does not name its fd as fd 0");
  return std::pair{std::move(reply.fds.front()), std::move(reply.parameters)};
}

}  // namespace

std::optional<std::string> raw_family_word(int domain) {
  if (domain == AF_INET) return "inet";
  if (domain == AF_INET6) return "inet6";
  return std::nullopt;
}

std::optional<std::string> raw_protocol_word(int protocol) {
  switch (protocol) {
    case IPPROTO_ICMP: return "icmp";
    case IPPROTO_ICMPV6: return "icmpv6";
    case IPPROTO_UDP: return "udp";
    case IPPROTO_TCP: return "tcp";
    default: break;
  }
  if (protocol < 0 || protocol > 255) return std::nullopt;
  return std::to_string(protocol);
}

Result<UniqueFd> raw_socket(Client& client, int domain, int protocol) {
  auto family = raw_family_word(domain);
  if (!family)
    return make_error(EAFNOSUPPORT, "domain " + std::to_string(domain) + " is not AF_INET or AF_INET6");
  auto word = raw_protocol_word(protocol);
  if (!word) return make_error(EPROTONOSUPPORT, "protocol " + std::to_string(protocol) + " is not 0..255");
  NETD_ASSIGN_OR_RETURN(auto answer, call_for_socket(client, "io.netd.Sockets.Raw",
                                                     {{"family", *family}, {"protocol", *word}}));
  return std::move(answer.first);
}

Result<UniqueFd> packet_socket(Client& client, int protocol_network_order, const std::string& ifname) {
  if (protocol_network_order < 0 || protocol_network_order > 0xffff)
    return make_error(EINVAL, "protocol " + std::to_string(protocol_network_order) +
                                  " is not a 16-bit ethertype in network byte order (htons(ETH_P_ALL))");
  nlohmann::json params = {{"protocol", ntohs(static_cast<uint16_t>(protocol_network_order))}};
  if (!ifname.empty()) params["ifname"] = ifname;
  NETD_ASSIGN_OR_RETURN(auto answer, call_for_socket(client, "io.netd.Sockets.Packet", params));
  return std::move(answer.first);
}

Result<UniqueFd> capture_socket(Client& client, const std::string& ifname) {
  if (ifname.empty()) return make_error(EINVAL, "capture needs an uplink's name");
  NETD_ASSIGN_OR_RETURN(auto answer, call_for_socket(client, "io.netd.Sockets.Capture", {{"ifname", ifname}}));
  return std::move(answer.first);
}

Result<UniqueFd> flowlog_socket(Client& client, int* group) {
  NETD_ASSIGN_OR_RETURN(auto answer, call_for_socket(client, "io.netd.Sockets.FlowLog", nlohmann::json::object()));
  auto g = answer.second.find("group");
  if (g == answer.second.end() || !g->is_number_integer() || g->get<int64_t>() < 0 || g->get<int64_t>() > 0xffff)
    return make_error(EPROTO, "io.netd.Sockets.FlowLog: netd's reply carries no NFLOG group 0..65535");
  if (group != nullptr) *group = g->get<int>();
  return std::move(answer.first);
}

}  // namespace netd
