#include "tools/vtuntap/name_cmds.h"

#include <cerrno>
#include <optional>
#include <string>

#include "tools/vtuntap/print.h"
#include "tools/vtuntap/words.h"

namespace vtuntap {

namespace {

using netd::make_error;
using nlohmann::json;

// Fills the one NAME slot of a command.
netd::Status take_name(std::string_view command, std::string_view word,
                       std::optional<std::string>& name) {
  if (word == "--")
    return make_error(EINVAL,
                      in_quotes(command) + " starts no program ('--' is for run and attach)");
  if (word.size() > 1 && word[0] == '-') return make_error(EINVAL, unknown_option(word, command));
  if (name)
    return make_error(EINVAL, in_quotes(command) + " takes one NAME, got " + in_quotes(*name) +
                                  " and " + in_quotes(word));
  if (!is_valid_ifname(word)) return make_error(EINVAL, in_quotes(word) + " is not a device name");
  name = std::string(word);
  return netd::ok_status();
}

netd::Result<std::string> read_one_name(std::string_view command,
                                        std::span<const std::string_view> args) {
  std::optional<std::string> name;
  for (std::string_view word : args) NETD_TRY(take_name(command, word, name));
  if (!name) return make_error(EINVAL, in_quotes(command) + " needs a device NAME");
  return *name;
}

}  // namespace

netd::Result<Plan> parse_attach(std::string_view command, std::span<const std::string_view> args,
                                const GlobalOptions&) {
  SplitWords split = split_at_double_dash(args);
  NETD_ASSIGN_OR_RETURN(std::string name, read_one_name(command, split.own));
  json parameters = {{"name", name}};
  if (!split.program)
    return Plan::call("io.netd.Vifs.Attach", std::move(parameters), print_attached);
  if (split.program->empty()) return make_error(EINVAL, "'attach' needs a program after '--'");
  return Plan::exec("io.netd.Vifs.Attach", std::move(parameters), std::move(*split.program));
}

netd::Result<Plan> parse_del(std::string_view command, std::span<const std::string_view> args,
                             const GlobalOptions&) {
  NETD_ASSIGN_OR_RETURN(std::string name, read_one_name(command, args));
  return Plan::call("io.netd.Vifs.Delete", {{"name", name}}, print_nothing);
}

netd::Result<Plan> parse_list(std::string_view command, std::span<const std::string_view> args,
                              const GlobalOptions&) {
  GlobalOptions own;  // merged with the global options by the caller
  std::optional<std::string> name;
  for (std::string_view word : args) {
    if (word == "-j" || word == "--json")
      own.json = true;
    else if (word == "-p" || word == "--pretty")
      own.pretty = true;
    else
      NETD_TRY(take_name(command, word, name));
  }
  json parameters = json::object();
  if (name) parameters["name"] = *name;
  Plan plan = Plan::call("io.netd.Vifs.List", std::move(parameters), print_list);
  plan.options = own;
  return plan;
}

}  // namespace vtuntap
