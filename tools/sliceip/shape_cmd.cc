#include "tools/sliceip/shape_cmd.h"

#include <cerrno>

#include "lib/core/net_types.h"
#include "tools/common/reply.h"
#include "tools/common/words.h"

namespace sliceip {

namespace {

using netd::make_error;
using netd::cli::bad_reply;
using netd::cli::in_quotes;
using netd::cli::integer_field;
using netd::cli::json_text;
using nlohmann::json;

std::string rate_text(const json& object, const char* key) {
  const json* n = integer_field(object, key);
  return n != nullptr ? netd::format_rate_bps(n->get<uint64_t>()) : "?";
}

std::string limits_text(const json& limits) {
  return "rate " + rate_text(limits, "rate") + " ceil " + rate_text(limits, "ceil");
}

}  // namespace

netd::Result<Plan> parse_shape_show(std::string_view command, std::span<const std::string_view> args,
                                    const GlobalOptions&) {
  if (!args.empty())
    return make_error(EINVAL, "unknown argument " + in_quotes(args.front()) + " for 'shape " +
                                  std::string(command) + "'");
  return Plan::call("io.netd.Shaping.Show", json::object(), print_shape);
}

netd::Result<Plan> parse_shape_set(std::string_view, std::span<const std::string_view> args, const GlobalOptions&) {
  json params = json::object();
  for (size_t i = 0; i < args.size(); i += 2) {
    std::string_view word = args[i];
    if (word != "rate" && word != "ceil")
      return make_error(EINVAL, "unknown argument " + in_quotes(word) + " for 'shape set' (rate RATE, ceil RATE)");
    if (params.contains(std::string(word))) return make_error(EINVAL, in_quotes(word) + " given twice");
    if (i + 1 >= args.size()) return make_error(EINVAL, in_quotes(word) + " needs a rate (e.g. 10mbit)");
    auto bps = netd::parse_rate_bps(args[i + 1]);
    if (!bps.ok()) return make_error(EINVAL, in_quotes(word) + ": " + bps.error().message);
    params[std::string(word)] = *bps;
  }
  return Plan::call("io.netd.Shaping.Set", std::move(params), print_shape_set);
}

netd::Result<std::string> print_shape(const json&, const json& reply, const GlobalOptions& options) {
  if (!reply.is_object() || !reply.contains("uplinks") || !reply["uplinks"].is_array())
    return bad_reply("no 'uplinks' list");
  if (options.json) return json_text(reply, options);
  std::string text = "shape " + netd::cli::string_or(reply, "slice", "?");
  const json* current = netd::cli::field(reply, "current");
  const json* policy = netd::cli::field(reply, "policy");
  if (current == nullptr || policy == nullptr) {
    text += " unshaped (default class)\n";
  } else if (netd::cli::flag_of(reply, "lowered")) {
    text += " " + limits_text(*current) + " (lowered; policy " + limits_text(*policy) + ")\n";
  } else {
    text += " " + limits_text(*current) + " (policy)\n";
  }
  for (const auto& uplink : reply["uplinks"]) {
    text += "    dev " + netd::cli::string_or(uplink, "device", "?") + " class " +
            netd::cli::string_or(uplink, "classid", "?") + " " + limits_text(uplink) + " sent " +
            netd::cli::integer_text(uplink, "bytes") + " bytes " + netd::cli::integer_text(uplink, "packets") +
            " pkt\n";
  }
  return text;
}

netd::Result<std::string> print_shape_set(const json&, const json& reply, const GlobalOptions& options) {
  if (!options.json) return std::string();
  const json* current = netd::cli::field(reply, "current");
  if (current == nullptr) return bad_reply("no 'current' limits");
  return json_text(*current, options);
}

}  // namespace sliceip
