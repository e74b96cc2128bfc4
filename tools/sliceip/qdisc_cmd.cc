#include "tools/sliceip/qdisc_cmd.h"

#include <cerrno>
#include <optional>
#include <string>

#include "lib/core/net_types.h"
#include "tools/sliceip/print.h"
#include "tools/sliceip/qdisc_print.h"
#include "tools/sliceip/vif_words.h"
#include "tools/sliceip/words.h"

namespace sliceip {

namespace {

using netd::make_error;
using nlohmann::json;

std::string command_name(std::string_view command) { return "qdisc " + std::string(command); }

// The words before the qdisc kind, as tc has them: dev VIF and root.
struct Target {
  std::optional<std::string> dev;
  bool root = false;
};

// Reads dev/root from the start of args; returns the index of the first other word.
netd::Result<size_t> read_target(std::string_view command, std::span<const std::string_view> args, Target& target) {
  std::string name = command_name(command);
  size_t i = 0;
  for (; i < args.size(); ++i) {
    std::string_view word = args[i];
    if (word == "dev") {
      NETD_TRY(take_device(name, args, i, target.dev));
    } else if (word == "root") {
      if (target.root) return make_error(EINVAL, "'root' is given twice");
      target.root = true;
    } else if (word == "parent" || word == "handle" || word == "ingress" || word == "clsact") {
      return make_error(EINVAL, in_quotes(word) + " cannot be given: a slice sets the root qdisc of its vifs, "
                                                   "whose handle is netd's");
    } else {
      break;
    }
  }
  return i;
}

netd::Status check_target(std::string_view command, const Target& target) {
  std::string name = command_name(command);
  if (!target.dev) return make_error(EINVAL, in_quotes(name) + " needs 'dev VIF': one of the slice's vifs");
  if (!target.root)
    return make_error(EINVAL, in_quotes(name) + " needs 'root': a slice sets only the root qdisc of its vifs");
  return netd::ok_status();
}

enum class ValueType { kRate, kSize, kTime };

// A parameter of a qdisc kind: its word, the request field it fills and its unit.
struct Parameter {
  std::string_view word;
  const char* field;
  ValueType type;
};

constexpr Parameter kTbfParameters[] = {
    {"rate", "rate", ValueType::kRate},
    {"burst", "burst", ValueType::kSize},
    {"latency", "latency", ValueType::kTime},
    {"limit", "limit", ValueType::kSize},
};
constexpr Parameter kHtbParameters[] = {
    {"rate", "rate", ValueType::kRate},
};

struct KindEntry {
  std::string_view word;
  std::span<const Parameter> parameters;
  const char* takes;  // for the message about a word it does not take
};

constexpr KindEntry kKinds[] = {
    {"tbf", kTbfParameters, "rate, burst, and latency or limit"},
    {"htb", kHtbParameters, "rate"},
};

// Rates in bit/s, sizes in bytes, times in microseconds, from tc's units.
netd::Result<uint64_t> parse_value(const Parameter& parameter, std::string_view text) {
  netd::Result<uint64_t> value = parameter.type == ValueType::kRate   ? netd::parse_rate_bps(text)
                                 : parameter.type == ValueType::kSize ? netd::parse_size_bytes(text)
                                                                      : netd::parse_time_us(text);
  if (!value.ok()) return make_error(EINVAL, in_quotes(parameter.word) + ": " + value.error().message);
  return *value;
}

netd::Status unknown_parameter(const KindEntry& kind, std::string_view word) {
  if (kind.word == "htb" && word == "ceil")
    return make_error(EINVAL, "'ceil' is not offered: htb's one class has nobody to borrow from, so its rate is "
                              "its ceiling");
  if (word == "dev" || word == "root")
    return make_error(EINVAL, in_quotes(word) + " comes before the qdisc kind, as in tc");
  return make_error(EINVAL, "unknown " + std::string(kind.word) + " parameter " + in_quotes(word) + " (" +
                                std::string(kind.word) + " takes " + kind.takes + ")");
}

// KIND PARAMETER VALUE... (args[0] is the kind) into `parameters`.
netd::Status read_kind(std::string_view command, std::span<const std::string_view> args, json& parameters) {
  if (args.empty()) return make_error(EINVAL, in_quotes(command_name(command)) + " needs a qdisc kind: tbf or htb");
  const KindEntry* kind = netd::cli::find_keyword(kKinds, args[0]);
  if (kind == nullptr)
    return make_error(EINVAL, "unknown qdisc kind " + in_quotes(args[0]) + " (a slice's vif takes tbf or htb)");
  parameters["kind"] = std::string(kind->word);
  for (size_t i = 1; i < args.size(); ++i) {
    const Parameter* parameter = netd::cli::find_keyword(kind->parameters, args[i]);
    if (parameter == nullptr) return unknown_parameter(*kind, args[i]);
    if (parameters.contains(parameter->field)) return make_error(EINVAL, in_quotes(args[i]) + " is given twice");
    std::optional<std::string_view> text = value_after(args, i);
    if (!text) return make_error(EINVAL, in_quotes(args[i]) + " needs a value");
    NETD_ASSIGN_OR_RETURN(uint64_t value, parse_value(*parameter, *text));
    parameters[parameter->field] = value;
    ++i;
  }
  if (!parameters.contains("rate"))
    return make_error(EINVAL, in_quotes(command_name(command) + " ... " + std::string(kind->word)) +
                                  " needs 'rate RATE'");
  return netd::ok_status();
}

}  // namespace

netd::Result<Plan> parse_qdisc_replace(std::string_view command, std::span<const std::string_view> args,
                                       const GlobalOptions&) {
  Target target;
  NETD_ASSIGN_OR_RETURN(size_t kind_at, read_target(command, args, target));
  NETD_TRY(check_target(command, target));
  json parameters = {{"dev", *target.dev}};
  NETD_TRY(read_kind(command, args.subspan(kind_at), parameters));
  return Plan::call("io.netd.Qdiscs.Replace", std::move(parameters), print_nothing);
}

netd::Result<Plan> parse_qdisc_del(std::string_view command, std::span<const std::string_view> args,
                                   const GlobalOptions&) {
  Target target;
  NETD_ASSIGN_OR_RETURN(size_t end, read_target(command, args, target));
  if (end < args.size()) return make_error(EINVAL, unknown_vif_argument(args[end], command_name(command)));
  NETD_TRY(check_target(command, target));
  return Plan::call("io.netd.Qdiscs.Delete", {{"dev", *target.dev}}, print_nothing);
}

netd::Result<Plan> parse_qdisc_show(std::string_view command, std::span<const std::string_view> args,
                                    const GlobalOptions&) {
  std::string name = command_name(command);
  std::optional<std::string> dev;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] != "dev") return make_error(EINVAL, unknown_vif_argument(args[i], name));
    NETD_TRY(take_device(name, args, i, dev));
  }
  json parameters = json::object();
  if (dev) parameters["dev"] = *dev;
  return Plan::call("io.netd.Qdiscs.List", std::move(parameters), print_qdisc_list);
}

}  // namespace sliceip
