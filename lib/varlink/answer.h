// What a method answers: its reply parameters and the fds that go with them (SCM_RIGHTS).
// Shared by the server, which sends it, and the operations that make it, so neither needs the
// other's headers.
#pragma once

#include <nlohmann/json.hpp>

#include <vector>

#include "lib/core/unique_fd.h"

namespace netd::varlink {

struct Answer {
  nlohmann::json parameters = nlohmann::json::object();
  std::vector<UniqueFd> fds;
};

}  // namespace netd::varlink
