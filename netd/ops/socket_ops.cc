#include "netd/ops/socket_ops.h"

#include <sys/socket.h>

#include "lib/core/errors.h"
#include "netd/kernel/bpf/netns_cookie.h"
#include "netd/kernel/sockets/socket_bind.h"
#include "netd/kernel/sockets/socket_options.h"
#include "netd/policy/socket_ops_decision.h"

namespace netd::ops {
namespace {

struct OptionNumbers {
  int set;
  int read;
};

OptionNumbers numbers_of(policy::SocketOption option) {
  switch (option) {
    case policy::SocketOption::kRcvBufForce:
      return {SO_RCVBUFFORCE, SO_RCVBUF};
    case policy::SocketOption::kSndBufForce:
      return {SO_SNDBUFFORCE, SO_SNDBUF};
    case policy::SocketOption::kPriority:
      return {SO_PRIORITY, SO_PRIORITY};
  }
  return {SO_PRIORITY, SO_PRIORITY};
}

// The one socket of the call, or why not.
Result<kernel::PassedSocketFacts> passed_socket(const std::vector<UniqueFd>& fds) {
  if (fds.size() != 1)
    return invalid("pass exactly one socket with the call (SCM_RIGHTS); it came with " + std::to_string(fds.size()));
  auto facts = kernel::inspect_passed_socket(fds.front().get());
  if (!facts.ok() && facts.error().code == ENOTSOCK) return invalid(facts.error().message, ENOTSOCK);
  if (!facts.ok()) return kernel_error(std::move(facts).error());
  return facts;
}

// The kernel's refusal of a bind, as the caller's: the port taken is a Conflict, an address not
// on this host or a socket bound already is the request's fault; anything else is netd's.
Error bind_error(Error e) {
  if (e.code == EADDRINUSE) e.kind = ErrorKind::kConflict;
  else if (e.code == EADDRNOTAVAIL || e.code == EINVAL) e.kind = ErrorKind::kInvalidArgument;
  else e = kernel_error(std::move(e));
  return e;
}

}  // namespace

Result<nlohmann::json> SocketOps::set_option(const policy::Policy& p, const policy::SliceSpec& s, uid_t uid,
                                             const std::vector<UniqueFd>& fds,
                                             const api::socketops::SetOptionIn& in) {
  NETD_ASSIGN_OR_RETURN(policy::SocketOption option, policy::parse_socket_option(in.option));
  NETD_ASSIGN_OR_RETURN(kernel::PassedSocketFacts facts, passed_socket(fds));
  NETD_TRY(policy::decide_socket_owner(p, s, uid, {facts.owner, facts.mark}));
  NETD_ASSIGN_OR_RETURN(int value, policy::decide_socket_option(s, option, in.value));
  const OptionNumbers n = numbers_of(option);
  auto now = kernel::set_socket_option(fds.front().get(), n.set, n.read, value, policy::socket_option_name(option));
  if (!now.ok()) return kernel_error(std::move(now).error());
  return nlohmann::json{{"value", *now}};
}

Result<nlohmann::json> SocketOps::bind(const policy::Policy& p, const policy::SliceSpec& s, uid_t uid,
                                       const std::vector<UniqueFd>& fds, const api::socketops::BindIn& in) {
  NETD_ASSIGN_OR_RETURN(policy::BindRequest request, policy::parse_bind_request(in.address, in.port));
  NETD_ASSIGN_OR_RETURN(kernel::PassedSocketFacts facts, passed_socket(fds));
  auto netd_netns = kernel::current_netns_cookie("socket ops");
  if (!netd_netns.ok()) return kernel_error(std::move(netd_netns).error());
  const uint32_t vif_slice = vifs_.slice_of_address(policy::bind_lookup_address(request.address));
  const policy::SliceSpec* vif_owner = vif_slice == 0 ? nullptr : p.find_by_id(vif_slice);
  NETD_ASSIGN_OR_RETURN(uint32_t mark,
                        policy::decide_socket_bind(p, s, uid,
                                                   {facts.owner, facts.mark, facts.domain, facts.type,
                                                    facts.netns_cookie, facts.protocol},
                                                   *netd_netns, request, vif_owner));
  auto bound = kernel::bind_passed_socket(fds.front().get(), mark, request.address, request.port);
  if (!bound.ok()) return bind_error(std::move(bound).error());
  return nlohmann::json::object();
}

}  // namespace netd::ops
