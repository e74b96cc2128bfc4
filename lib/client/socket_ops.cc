#include "lib/client/socket_ops.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace netd {

std::optional<std::string> socket_option_word(int option) {
  switch (option) {
    case SO_RCVBUFFORCE: return "rcvbufforce";
    case SO_SNDBUFFORCE: return "sndbufforce";
    case SO_PRIORITY: return "priority";
    default: return std::nullopt;
  }
}

Result<int> set_socket_option(Client& client, int fd, int option, int value) {
  auto word = socket_option_word(option);
  if (!word)
    return make_error(ENOPROTOOPT, "option " + std::to_string(option) +
                                       " does not go through netd (SO_RCVBUFFORCE, SO_SNDBUFFORCE, SO_PRIORITY)");
  const int fds[] = {fd};
  NETD_ASSIGN_OR_RETURN(Reply reply, client.call("io.netd.SocketOps.SetOption", {{"option", *word}, {"value", value}},
                                                 fds));
  if (!reply.ok()) return make_error(reply.error_errno(), reply.error + ": " + reply.reason());
  auto now = reply.parameters.find("value");
  if (now == reply.parameters.end() || !now->is_number_integer())
    return make_error(EPROTO, "io.netd.SocketOps.SetOption: netd's reply has no value");
  return now->get<int>();
}

Result<BindWords> bind_words(const sockaddr* addr, socklen_t len) {
  if (addr == nullptr) return make_error(EINVAL, "no address to bind to");
  char text[INET6_ADDRSTRLEN] = {};
  if (addr->sa_family == AF_INET) {
    if (len < sizeof(sockaddr_in)) return make_error(EINVAL, "the AF_INET address is shorter than a sockaddr_in");
    const auto* sin = reinterpret_cast<const sockaddr_in*>(addr);
    inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
    return BindWords{text, ntohs(sin->sin_port)};
  }
  if (addr->sa_family == AF_INET6) {
    if (len < sizeof(sockaddr_in6)) return make_error(EINVAL, "the AF_INET6 address is shorter than a sockaddr_in6");
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(addr);
    if (sin6->sin6_scope_id != 0)
      return make_error(EINVAL, "an IPv6 scope id (" + std::to_string(sin6->sin6_scope_id) +
                                    ") does not go through netd: it binds no link-local address");
    inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
    return BindWords{text, ntohs(sin6->sin6_port)};
  }
  return make_error(EAFNOSUPPORT, "address family " + std::to_string(addr->sa_family) +
                                      " does not go through netd (AF_INET, AF_INET6)");
}

Status bind_socket(Client& client, int fd, const sockaddr* addr, socklen_t len) {
  NETD_ASSIGN_OR_RETURN(BindWords words, bind_words(addr, len));
  const int fds[] = {fd};
  NETD_ASSIGN_OR_RETURN(Reply reply, client.call("io.netd.SocketOps.Bind",
                                                 {{"address", words.address}, {"port", words.port}}, fds));
  if (!reply.ok()) return make_error(reply.error_errno(), reply.error + ": " + reply.reason());
  return ok_status();
}

}  // namespace netd
