// Binds a generated method (lib/varlink/api/*.h) to a typed handler: the handler gets the
// decoded parameters and the caller's slice, never raw JSON or the peer's identity to resolve
// again. The server has already checked access, fds and the parameters' shape (dispatcher.h).
#pragma once

#include <type_traits>
#include <vector>

#include "lib/core/unique_fd.h"
#include "netd/policy/policy.h"
#include "netd/server/dispatcher.h"

namespace netd::daemon {

// What a handler knows about its caller besides the parameters.
struct Caller {
  uid_t uid;
  const policy::SliceSpec* slice;  // kMember: the caller's slice, never null; else its slice if any
  std::vector<UniqueFd>& fds;      // fds it passed (methods that take fds)
};

enum class Fds { kNone, kTakes, kReturns };

// handler: (const Caller&, const M::In&) -> Result<nlohmann::json> (the reply parameters) or
// Result<server::Answer> (parameters and fds). `policy` is read at each call (reloads replace it).
template <class M, class Handler>
server::Method bind(server::Access access, Fds fds, const policy::Policy& policy, Handler handler,
                    std::string_view admin_action = {}) {
  return server::Method{
      &M::schema(), access, admin_action, fds == Fds::kTakes, fds == Fds::kReturns,
      [&policy, handler](server::Call& call) -> Result<server::Answer> {
        const policy::SliceSpec* slice =
            call.identity.slice_id ? policy.find_by_id(*call.identity.slice_id) : nullptr;
        if (slice == nullptr && call.identity.slice_id)  // identified under the same policy: cannot happen
          return make_error(ESRCH, "slice id " + std::to_string(*call.identity.slice_id) + " is gone",
                            ErrorKind::kNotMember);
        const typename M::In in = M::decode(call.parameters);
        auto result = handler(Caller{call.peer.uid, slice, call.fds}, in);
        if constexpr (std::is_same_v<decltype(result), Result<server::Answer>>) {
          return result;
        } else {
          if (!result.ok()) return std::move(result).error();
          return server::Answer{std::move(*result), {}};
        }
      }};
}

}  // namespace netd::daemon
