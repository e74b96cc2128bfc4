#include "lib/client/socket_ops.h"

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

}  // namespace netd
