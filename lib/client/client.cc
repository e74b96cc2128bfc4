#include "lib/client/client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstdlib>
#include <cstring>

namespace netd {

std::string Reply::reason() const {
  if (parameters.is_object() && parameters.contains("reason") && parameters["reason"].is_string())
    return parameters["reason"].get<std::string>();
  return error;
}

int Reply::error_errno() const {
  if (parameters.is_object() && parameters.contains("errno") && parameters["errno"].is_number_integer())
    return parameters["errno"].get<int>();
  return EPROTO;
}

std::string Client::socket_path(const std::string& explicit_path) {
  if (!explicit_path.empty()) return explicit_path;
  if (const char* env = std::getenv("NETD_SOCKET"); env != nullptr && *env != '\0') return env;
  return "/run/netd/netd.sock";
}

Result<Client> Client::connect(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return make_error(ENAMETOOLONG, "socket path too long: " + path);
  std::memcpy(addr.sun_path, path.data(), path.size());
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return errno_error("socket");
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    return errno_error("cannot reach netd at " + path);
  return Client(std::move(fd));
}

Result<Reply> Client::call(std::string_view method, const nlohmann::json& parameters,
                           std::span<const int> fds) {
  nlohmann::json request = {{"method", method}, {"parameters", parameters}};
  // Invalid UTF-8 in a caller's string is replaced, never thrown (this also serves C callers).
  auto sent = varlink::send_message(
      fd_.get(), request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), fds);
  // netd may have refused the connection itself (per-uid cap) with an error message and
  // closed it: a broken pipe then still leaves that message to read.
  if (!sent.ok() && sent.error().code != EPIPE && sent.error().code != ECONNRESET) return std::move(sent).error();
  for (;;) {
    NETD_ASSIGN_OR_RETURN(auto message, reader_.next());
    if (message) {
      auto parsed = nlohmann::json::parse(message->json, nullptr, /*allow_exceptions=*/false);
      if (!parsed.is_object()) return make_error(EPROTO, "netd sent a malformed reply");
      Reply reply;
      if (parsed.contains("error")) {
        if (!parsed["error"].is_string()) return make_error(EPROTO, "netd sent a malformed error");
        reply.error = parsed["error"].get<std::string>();
      }
      if (parsed.contains("parameters") && parsed["parameters"].is_object())
        reply.parameters = std::move(parsed["parameters"]);
      reply.fds = std::move(message->fds);
      return reply;
    }
    // The reply is waited for in recvmsg itself: a poll first would be one more system call on
    // every call. Only a socket the caller made non-blocking needs the poll.
    auto state = reader_.read_from(fd_.get(), varlink::MessageReader::Wait::kYes);
    if (state.ok() && *state == varlink::MessageReader::ReadState::kWouldBlock) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (poll(&p, 1, -1) < 0 && errno != EINTR) return errno_error("waiting for netd");
      continue;
    }
    if (!state.ok() || *state == varlink::MessageReader::ReadState::kEof) {
      if (!sent.ok()) return std::move(sent).error();
      if (!state.ok()) return std::move(state).error();
      return make_error(ECONNRESET, "netd closed the connection");
    }
  }
}

Result<nlohmann::json> Client::call_checked(std::string_view method, const nlohmann::json& parameters) {
  NETD_ASSIGN_OR_RETURN(auto reply, call(method, parameters));
  if (!reply.ok()) return make_error(reply.error_errno(), reply.error + ": " + reply.reason());
  return std::move(reply.parameters);
}

}  // namespace netd
