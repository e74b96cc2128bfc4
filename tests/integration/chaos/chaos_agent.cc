#include "tests/integration/chaos/chaos_agent.h"

#include <algorithm>
#include <chrono>

#include "tests/fixtures/json.h"
#include "tests/integration/common/testbed.h"

namespace netd::testing {

namespace {
// The failure bound of one exchange: a Varlink call netd is slow to answer under load, or a
// probe waiting for what must arrive (the agent gives up on those after 10 s itself).
constexpr std::chrono::seconds kExchangeBound{60};
}  // namespace

Result<Agent> Agent::spawn(const Testbed& bed, uid_t uid, std::string label) {
  NETD_ASSIGN_OR_RETURN(ChildProcess p, bed.spawn_as(uid, {"/usr/bin/python3", CHAOS_AGENT}));
  auto ready = p.read_line(kExchangeBound);
  if (!ready || json_of(*ready).value("event", "") != "ready")
    return make_error(EIO, "chaos agent " + label + " did not start: " + p.wait(std::chrono::seconds(5)).describe());
  return Agent(std::move(p), uid, std::move(label));
}

nlohmann::json Agent::exchange(const nlohmann::json& command, const std::vector<std::string>& finals,
                               const std::function<void(const nlohmann::json&)>& on_line) {
  if (!process_ || !process_->write_stdin(command.dump() + "\n").ok()) return nullptr;
  while (auto line = process_->read_line(kExchangeBound)) {
    auto j = json_of(*line);
    if (!j.is_object()) return nlohmann::json{{"event", "garbled"}, {"line", *line}};
    if (std::find(finals.begin(), finals.end(), j.value("event", "")) != finals.end()) return j;
    if (on_line) on_line(j);
  }
  return nullptr;
}

nlohmann::json Agent::call(const std::string& method, const nlohmann::json& parameters, bool keep,
                           const std::function<void()>& on_sent, bool probe) {
  nlohmann::json command = {
      {"op", "call"}, {"method", method}, {"parameters", parameters}, {"keep", keep}, {"probe", probe}};
  return exchange(command, {"reply", "unreachable"}, [&](const nlohmann::json& line) {
    if (line.value("event", "") == "sent" && on_sent) on_sent();
  });
}

std::string Agent::describe_exit() {
  if (!process_) return "gone";
  auto r = process_->wait(std::chrono::seconds(5));
  process_.reset();
  return r.describe();
}

}  // namespace netd::testing
