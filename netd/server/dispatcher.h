// The table of Varlink methods netd answers. Each entry is the method's generated schema (from
// the IDL), who may call it, whether it takes or returns fds, and its handler. The server checks
// all of that, once, before the handler runs: a handler never sees a request of the wrong shape,
// from the wrong caller, or with fds it did not ask for. Anything not in the table is answered
// with org.varlink.service.MethodNotFound.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/core/result.h"
#include "lib/core/unique_fd.h"
#include "lib/varlink/answer.h"
#include "lib/varlink/schema.h"
#include "netd/server/peer.h"

namespace netd::server {

using Answer = varlink::Answer;

// Who may call a method.
enum class Access {
  kAnyone,  // introspection: no identity needed
  kMember,  // a member of a slice; others get NotMember
  kAdmin,   // a uid in the policy's admins; others get PermissionDenied
};

// Who the caller is, resolved once per request from its peer credentials (never from the
// request), by the composition root that knows the policy.
struct Identity {
  std::optional<uint32_t> slice_id;  // the slice the caller is a member of
  std::string slice;                 // its name ("" when none), for the audit line
  bool admin = false;
};

struct Call {
  const Peer& peer;
  const std::string& method;
  const nlohmann::json& parameters;  // accepted by the method's schema, null optionals removed
  std::vector<UniqueFd> fds;         // only for methods that take fds
  Identity identity;                 // resolved unless the method is for anyone
};

using Handler = std::function<Result<Answer>(Call&)>;

struct Method {
  const varlink::MethodSchema* schema = nullptr;  // generated from the IDL; its name is the key
  Access access = Access::kMember;
  // kAdmin: what the caller tried, for the refusal ("reloading the policy is for admins; ...").
  std::string_view admin_action;
  bool takes_fds = false;
  bool returns_fds = false;
  Handler handler;
};

class Dispatcher {
 public:
  void add(Method method) {
    std::string name(method.schema->name);
    methods_[name] = std::move(method);
  }
  const Method* find(const std::string& name) const {
    auto it = methods_.find(name);
    return it == methods_.end() ? nullptr : &it->second;
  }
  // Interface names ("io.netd.Routes") of all registered methods, sorted.
  std::vector<std::string> interfaces() const;
  const std::map<std::string, Method>& methods() const { return methods_; }

 private:
  std::map<std::string, Method> methods_;
};

}  // namespace netd::server
