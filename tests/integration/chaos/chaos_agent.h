// Agent: a chaos_agent.py process (see its docstring) as one uid of the testbed, and the
// command/answer exchange with it. Each agent is driven by one thread at a time.
#pragma once

#include <sys/types.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "lib/core/result.h"
#include "tests/fixtures/process.h"

namespace netd::testing {

class Testbed;

class Agent {
 public:
  static Result<Agent> spawn(const Testbed& bed, uid_t uid, std::string label);

  // Writes `command` and reads lines until one whose "event" is among `finals` (returned);
  // every line before it goes to `on_line`. Null when the agent printed none in time.
  nlohmann::json exchange(const nlohmann::json& command, const std::vector<std::string>& finals,
                          const std::function<void(const nlohmann::json&)>& on_line = {});
  // A Varlink call through the agent: `on_sent` runs once the request is on netd's socket.
  // The reply line ({"event":"reply",...}, or "unreachable"), null if none came.
  nlohmann::json call(const std::string& method, const nlohmann::json& parameters, bool keep = false,
                      const std::function<void()>& on_sent = {}, bool probe = false);

  uid_t uid() const { return uid_; }
  const std::string& label() const { return label_; }
  // The agent's stderr and exit status, once it is gone (for failure messages).
  std::string describe_exit();

 private:
  Agent(ChildProcess p, uid_t uid, std::string label) : process_(std::move(p)), uid_(uid), label_(std::move(label)) {}
  std::optional<ChildProcess> process_;
  uid_t uid_;
  std::string label_;
};

}  // namespace netd::testing
