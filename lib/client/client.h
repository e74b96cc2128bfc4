// netd::Client: a blocking Varlink client for netd (one request in flight at a time).
#pragma once

#include <nlohmann/json.hpp>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/core/result.h"
#include "lib/core/unique_fd.h"
#include "lib/varlink/framing.h"

namespace netd {

// A reply: either parameters, or a Varlink error name with its parameters
// ("reason", "errno" for io.netd.* errors).
struct Reply {
  std::string error;  // empty on success, else e.g. "io.netd.PermissionDenied"
  nlohmann::json parameters = nlohmann::json::object();
  std::vector<UniqueFd> fds;

  bool ok() const { return error.empty(); }
  std::string reason() const;  // parameters.reason, or the error name
  int error_errno() const;     // parameters.errno, or EPROTO
};

class Client {
 public:
  // Where clients find netd: the explicit path if not empty, else $NETD_SOCKET, else
  // /run/netd/netd.sock.
  static std::string socket_path(const std::string& explicit_path = "");
  static Result<Client> connect(const std::string& path);

  // One call: send {"method":..,"parameters":..} (+fds), wait for the reply.
  // The Result fails only on transport errors; Varlink errors come back in Reply.
  Result<Reply> call(std::string_view method, const nlohmann::json& parameters,
                     std::span<const int> fds = {});

  // As call(), but a Varlink error becomes an Error{errno, "error-name: reason"}.
  Result<nlohmann::json> call_checked(std::string_view method, const nlohmann::json& parameters);

  int fd() const { return fd_.get(); }

 private:
  explicit Client(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
  varlink::MessageReader reader_;
};

}  // namespace netd
