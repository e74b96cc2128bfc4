// The table of Varlink methods netd answers: name → handler, and whether it takes fds.
// Anything not in the table is answered with org.varlink.service.MethodNotFound.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "lib/core/result.h"
#include "lib/core/unique_fd.h"
#include "netd/server/peer.h"

namespace netd::server {

struct Call {
  const Peer& peer;
  const std::string& method;
  const nlohmann::json& parameters;  // always an object
  std::vector<UniqueFd> fds;         // only for methods that accept fds
  std::string slice;                 // set by the handler once known, for the audit line
};

struct Answer {
  nlohmann::json parameters = nlohmann::json::object();
  std::vector<UniqueFd> fds;
};

using Handler = std::function<Result<Answer>(Call&)>;

class Dispatcher {
 public:
  struct Entry {
    Handler handler;
    bool accepts_fds = false;
  };

  void add(const std::string& method, Handler handler, bool accepts_fds = false) {
    methods_[method] = Entry{std::move(handler), accepts_fds};
  }
  const Entry* find(const std::string& method) const {
    auto it = methods_.find(method);
    return it == methods_.end() ? nullptr : &it->second;
  }
  // Interface names ("io.netd.Routes") of all registered methods, sorted.
  std::vector<std::string> interfaces() const;

 private:
  std::map<std::string, Entry> methods_;
};

}  // namespace netd::server
