// The supervisor's connection to netd, shared by every responder: made once at start, made
// again once if netd restarted since (the old connection then fails with a transport error).
// Also how a failed call becomes the errno and stderr reason the program's call gets.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "lib/client/client.h"
#include "lib/core/result.h"

namespace sliceip::exec {

// Whether the error is netd's answer (as opposed to a transport failure worth a reconnect).
bool is_netd_refusal(const netd::Error& error);
// The errno the trapped call gets when netd refuses or cannot be asked: `error` is what the calls
// in lib/client return. A Varlink refusal ("io.netd.<Name>: reason") keeps netd's errno (EPERM
// for the policy's refusals), but ResourceExhausted is ENOBUFS (what the kernel says when it
// runs out of sockets); anything else (netd unreachable) is the EPERM the kernel gave before.
int refusal_errno(const netd::Error& error);
// netd's reason without the error name; "netd unreachable: <message>" for other failures.
std::string refusal_reason(const netd::Error& error);

class NetdLink {
 public:
  // client: the connection that asked Slices.Show; socket_option: sliceip's --socket (or "").
  NetdLink(netd::Client client, std::string socket_option)
      : client_(std::move(client)), socket_option_(std::move(socket_option)) {}

  // request(Client&) -> Result<T>. A transport failure gets one fresh connection and one more try.
  template <typename Request>
  auto ask(Request request) -> decltype(request(std::declval<netd::Client&>())) {
    auto once = [&]() -> decltype(request(std::declval<netd::Client&>())) {
      NETD_TRY(ensure_connected());
      return request(*client_);
    };
    auto answer = once();
    if (answer.ok() || is_netd_refusal(answer.error())) return answer;
    client_.reset();
    return once();
  }

 private:
  netd::Status ensure_connected();

  std::optional<netd::Client> client_;
  std::string socket_option_;
};

}  // namespace sliceip::exec
