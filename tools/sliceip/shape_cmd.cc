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
    if (word != "rate" && word != "ceil" && word != "rate_in" && word != "ceil_in")
      return make_error(EINVAL, "unknown argument " + in_quotes(word) +
                                    " for 'shape set' (rate RATE, ceil RATE, rate_in RATE, ceil_in RATE)");
    if (params.contains(std::string(word))) return make_error(EINVAL, in_quotes(word) + " given twice");
    if (i + 1 >= args.size()) return make_error(EINVAL, in_quotes(word) + " needs a rate (e.g. 10mbit)");
    auto bps = netd::parse_rate_bps(args[i + 1]);
    if (!bps.ok()) return make_error(EINVAL, in_quotes(word) + ": " + bps.error().message);
    params[std::string(word)] = *bps;
  }
  return Plan::call("io.netd.Shaping.Set", std::move(params), print_shape_set);
}

namespace {

// One direction of `shape show`: the limits line, then the slice's class on every uplink.
std::string direction_text(const json& reply, const std::string& suffix) {
  const bool in = !suffix.empty();
  std::string text = "shape " + netd::cli::string_or(reply, "slice", "?") + (in ? " download" : "");
  const std::string current_key = "current" + suffix, policy_key = "policy" + suffix;
  const std::string lowered_key = "lowered" + suffix, uplinks_key = "uplinks" + suffix;
  const json* current = netd::cli::field(reply, current_key.c_str());
  const json* policy = netd::cli::field(reply, policy_key.c_str());
  if (current == nullptr || policy == nullptr) {
    text += " unshaped (default class)\n";
  } else if (netd::cli::flag_of(reply, lowered_key.c_str())) {
    text += " " + limits_text(*current) + " (lowered; policy " + limits_text(*policy) + ")\n";
  } else {
    text += " " + limits_text(*current) + " (policy)\n";
  }
  const json* uplinks = netd::cli::field(reply, uplinks_key.c_str());
  if (uplinks == nullptr || !uplinks->is_array()) return text;
  for (const auto& uplink : *uplinks) {
    text += "    dev " + netd::cli::string_or(uplink, "device", "?");
    if (in) text += " via " + netd::cli::string_or(uplink, "ifb", "?");
    text += " class " + netd::cli::string_or(uplink, "classid", "?") + " " + limits_text(uplink) +
            (in ? " received " : " sent ") + netd::cli::integer_text(uplink, "bytes") + " bytes " +
            netd::cli::integer_text(uplink, "packets") + " pkt\n";
  }
  return text;
}

}  // namespace

// Uploads first (as before download shaping existed), then downloads.
netd::Result<std::string> print_shape(const json&, const json& reply, const GlobalOptions& options) {
  if (!reply.is_object() || !reply.contains("uplinks") || !reply["uplinks"].is_array())
    return bad_reply("no 'uplinks' list");
  if (options.json) return json_text(reply, options);
  return direction_text(reply, "") + direction_text(reply, "_in");
}

netd::Result<std::string> print_shape_set(const json&, const json& reply, const GlobalOptions& options) {
  if (!options.json) return std::string();
  if (!reply.is_object() || (!reply.contains("current") && !reply.contains("current_in")))
    return bad_reply("no 'current' limits");
  return json_text(reply, options);
}

}  // namespace sliceip
