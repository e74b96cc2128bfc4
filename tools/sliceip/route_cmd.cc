#include "tools/sliceip/route_cmd.h"

#include <cerrno>
#include <cstdint>
#include <optional>

#include "lib/core/net_types.h"
#include "tools/sliceip/print.h"
#include "tools/sliceip/words.h"

namespace sliceip {

namespace {

using netd::make_error;
using nlohmann::json;

// ip-route(8) selectors and attributes that choose a table, a protocol, a scope, a source
// policy, another next-hop object or another slice's lookup (mark, uid), plus the route types
// that live in other tables (local, broadcast, ...). Abbreviations ip still takes ("tab") are
// listed so that they get this answer rather than "unknown argument".
constexpr std::string_view kRefusedWords[] = {
    "table", "tab",    "vrf",   "proto",     "protocol",  "scope",   "realm", "realms", "nexthop",
    "nhid",  "onlink", "from",  "tos",       "dsfield",   "encap",   "mark",  "fwmark", "uid",
    "iif",   "oif",    "local", "broadcast", "multicast", "anycast", "nat",   "throw",
};

// The leading TYPE word of `route add TYPE PREFIX`; "unicast" is the default.
constexpr std::string_view kRouteTypes[] = {"unicast", "blackhole", "unreachable", "prohibit"};

constexpr uint64_t kMaxMetric = UINT32_MAX;
constexpr uint64_t kMinMtu = 68;  // IPv4's minimum; netd/the kernel check IPv6's 1280
constexpr uint64_t kMaxMtu = 65535;

std::string unknown_argument(std::string_view word, std::string_view command) {
  return "unknown argument " + in_quotes(word) + " for 'route " + std::string(command) + "'";
}

bool is_route_type(std::string_view word) {
  for (auto type : kRouteTypes)
    if (type == word) return true;
  return false;
}

// A word meant as an address rather than a keyword: worth a "not a prefix" message.
bool looks_like_address(std::string_view word) {
  if (word.empty()) return false;
  if (word.front() >= '0' && word.front() <= '9') return true;
  return word.find_first_of(".:/") != std::string_view::npos;
}

// A PREFIX as typed; `default` waits for the family to be known (-4/-6 or the gateway's).
struct PrefixWord {
  std::string text;
  bool is_default = false;
  netd::Prefix prefix;
};

netd::Result<PrefixWord> parse_prefix_word(std::string_view word) {
  PrefixWord parsed;
  parsed.text = std::string(word);
  if (word == "default") {
    parsed.is_default = true;
    return parsed;
  }
  auto prefix = netd::Prefix::parse(word);
  if (!prefix.ok()) return std::move(prefix).error();
  parsed.prefix = *prefix;
  return parsed;
}

// Resolves `default` and checks the prefix against -4/-6. `hint` is the family of a gateway
// or source address (AF_UNSPEC if none): `default via fd00::1` means ::/0, as in ip.
netd::Result<netd::Prefix> resolve_prefix(const PrefixWord& word, int option_family, int hint) {
  if (word.is_default) {
    int family = option_family != AF_UNSPEC ? option_family : hint != AF_UNSPEC ? hint : AF_INET;
    auto prefix = netd::Prefix::parse("default", family);
    if (!prefix.ok()) return std::move(prefix).error();
    return *prefix;
  }
  if (option_family != AF_UNSPEC && word.prefix.family() != option_family)
    return make_error(EINVAL, in_quotes(word.text) + " is not an " +
                                  std::string(family_label(option_family)) + " prefix (" +
                                  (option_family == AF_INET ? "-4" : "-6") + " was given)");
  return word.prefix;
}

// Fills the one PREFIX slot of a command from a word that is no keyword: a second address is
// "takes one PREFIX", anything else that does not look like an address is an unknown argument.
netd::Status take_prefix_word(std::string_view command, std::string_view word,
                              std::optional<PrefixWord>& slot) {
  if (slot && looks_like_address(word))
    return make_error(EINVAL, "'route " + std::string(command) + "' takes one PREFIX, got " +
                                  in_quotes(slot->text) + " and " + in_quotes(word));
  if (slot || (!looks_like_address(word) && word != "default"))
    return make_error(EINVAL, unknown_argument(word, command));
  NETD_ASSIGN_OR_RETURN(PrefixWord parsed, parse_prefix_word(word));
  slot = std::move(parsed);
  return netd::ok_status();
}

// What the words of `route add|replace|del` said.
struct RouteWords {
  std::string type;  // empty or "unicast": a unicast route
  std::optional<PrefixWord> dst;
  std::optional<netd::IpAddress> gateway;
  std::optional<std::string> dev;
  std::optional<netd::IpAddress> src;
  std::optional<uint64_t> metric;
  std::optional<uint64_t> mtu;
  std::string refused_word;  // set: stop, the route is refused
};

// Keyword → value. A setter returns false when the value is not what the keyword needs.
struct ValueKeyword {
  std::string_view word;
  std::string_view needs;  // "an address": for "'via' needs an address, got 'x'"
  bool (*set)(RouteWords&, std::string_view value);
  bool (*given)(const RouteWords&);
};

bool set_address(std::optional<netd::IpAddress>& field, std::string_view value) {
  auto address = netd::IpAddress::parse(value);
  if (!address.ok()) return false;
  field = *address;
  return true;
}

bool set_number(std::optional<uint64_t>& field, std::string_view value, uint64_t min,
                uint64_t max) {
  auto number = netd::parse_uint(value, min, max);
  if (!number.ok()) return false;
  field = *number;
  return true;
}

constexpr ValueKeyword kValueKeywords[] = {
    {"via", "an address",
     [](RouteWords& r, std::string_view v) { return set_address(r.gateway, v); },
     [](const RouteWords& r) { return r.gateway.has_value(); }},
    {"dev", "an interface name",
     [](RouteWords& r, std::string_view v) {
       if (!is_valid_ifname(v)) return false;
       r.dev = std::string(v);
       return true;
     },
     [](const RouteWords& r) { return r.dev.has_value(); }},
    {"src", "an address", [](RouteWords& r, std::string_view v) { return set_address(r.src, v); },
     [](const RouteWords& r) { return r.src.has_value(); }},
    {"metric", "a number 0..4294967295",
     [](RouteWords& r, std::string_view v) { return set_number(r.metric, v, 0, kMaxMetric); },
     [](const RouteWords& r) { return r.metric.has_value(); }},
    {"mtu", "a number 68..65535",
     [](RouteWords& r, std::string_view v) { return set_number(r.mtu, v, kMinMtu, kMaxMtu); },
     [](const RouteWords& r) { return r.mtu.has_value(); }},
};

netd::Result<RouteWords> read_route_words(std::string_view command,
                                          std::span<const std::string_view> args) {
  RouteWords route;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view word = args[i];
    if (is_refused_route_word(word)) {
      route.refused_word = std::string(word);
      return route;
    }
    if (const ValueKeyword* keyword = netd::cli::find_keyword(kValueKeywords, word)) {
      std::string name = in_quotes(keyword->word);
      if (keyword->given(route)) return make_error(EINVAL, name + " is given twice");
      if (i + 1 >= args.size())
        return make_error(EINVAL, name + " needs " + std::string(keyword->needs));
      std::string_view value = args[++i];
      // ip's `via inet6 ADDR` names the gateway's family: that is how an IPv4 route gets an
      // IPv6 next hop (RTA_VIA), which netd does not offer.
      if (keyword->word == "via" && (value == "inet" || value == "inet6"))
        return make_error(EINVAL, "'via " + std::string(value) +
                                      "' is not supported: give the gateway address alone");
      if (!keyword->set(route, value))
        return make_error(
            EINVAL, name + " needs " + std::string(keyword->needs) + ", got " + in_quotes(value));
      continue;
    }
    if (is_route_type(word) && !route.dst && route.type.empty()) {
      route.type = std::string(word);
      continue;
    }
    NETD_TRY(take_prefix_word(command, word, route.dst));
  }
  if (!route.dst) return make_error(EINVAL, "'route " + std::string(command) + "' needs a PREFIX");
  return route;
}

netd::Status check_address_family(std::string_view keyword, const netd::IpAddress& address,
                                  const netd::Prefix& dst, std::string_view dst_text) {
  if (address.family() == dst.family()) return netd::ok_status();
  return make_error(EINVAL, in_quotes(keyword) + " address " + in_quotes(address.to_string()) +
                                " is " + std::string(family_label(address.family())) +
                                " but PREFIX " + in_quotes(dst_text) + " is " +
                                std::string(family_label(dst.family())));
}

// The io.netd.Routes.Route object; absent words are absent fields (netd refuses nulls).
netd::Result<json> build_route(const RouteWords& words, const GlobalOptions& options) {
  bool unicast = words.type.empty() || words.type == "unicast";
  if (!unicast) {
    // Grammar: `TYPE PREFIX [metric N]`; a next hop means nothing for these routes.
    const std::pair<std::string_view, bool> next_hop_words[] = {
        {"via", words.gateway.has_value()},
        {"dev", words.dev.has_value()},
        {"src", words.src.has_value()},
        {"mtu", words.mtu.has_value()},
    };
    for (const auto& [word, given] : next_hop_words)
      if (given)
        return make_error(EINVAL, (words.type.front() == 'u' ? "an " : "a ") + words.type +
                                      " route takes no " + in_quotes(word));
  }
  int hint = words.gateway ? words.gateway->family() : words.src ? words.src->family() : AF_UNSPEC;
  NETD_ASSIGN_OR_RETURN(netd::Prefix dst, resolve_prefix(*words.dst, options.family, hint));
  if (words.gateway) NETD_TRY(check_address_family("via", *words.gateway, dst, words.dst->text));
  if (words.src) NETD_TRY(check_address_family("src", *words.src, dst, words.dst->text));

  json route = json::object();
  if (!unicast) route["type"] = words.type;
  route["dst"] = dst.to_string();
  if (words.gateway) route["gateway"] = words.gateway->to_string();
  if (words.dev) route["dev"] = *words.dev;
  if (words.src) route["src"] = words.src->to_string();
  if (words.metric) route["metric"] = *words.metric;
  if (words.mtu) route["mtu"] = *words.mtu;
  return route;
}

}  // namespace

bool is_refused_route_word(std::string_view word) {
  for (auto refused : kRefusedWords)
    if (refused == word) return true;
  return false;
}

std::string refused_word_message(std::string_view word, std::string_view slice_name) {
  std::string table =
      slice_name.empty() ? "your slice's table" : "slice " + std::string(slice_name) + "'s table";
  return in_quotes(word) + " is not allowed: routes always go to " + table;
}

netd::Result<Plan> parse_route_change(std::string_view command,
                                      std::span<const std::string_view> args,
                                      const GlobalOptions& options) {
  NETD_ASSIGN_OR_RETURN(RouteWords words, read_route_words(command, args));
  if (!words.refused_word.empty()) return Plan::refused(words.refused_word);
  NETD_ASSIGN_OR_RETURN(json route, build_route(words, options));
  json parameters = {{"route", std::move(route)}};
  if (command == "del" || command == "delete")
    return Plan::call("io.netd.Routes.Delete", std::move(parameters), print_nothing);
  if (command == "replace") parameters["replace"] = true;
  return Plan::call("io.netd.Routes.Add", std::move(parameters), print_nothing);
}

netd::Result<Plan> parse_route_show(std::string_view command,
                                    std::span<const std::string_view> args,
                                    const GlobalOptions& options) {
  std::optional<PrefixWord> prefix_word;
  for (std::string_view word : args) {
    if (is_refused_route_word(word)) return Plan::refused(std::string(word));
    NETD_TRY(take_prefix_word(command, word, prefix_word));
  }
  json parameters = json::object();
  if (options.family != AF_UNSPEC) parameters["family"] = family_name(options.family);
  if (prefix_word) {
    NETD_ASSIGN_OR_RETURN(netd::Prefix prefix,
                          resolve_prefix(*prefix_word, options.family, AF_UNSPEC));
    parameters["prefix"] = prefix.to_string();
  }
  return Plan::call("io.netd.Routes.List", std::move(parameters), print_route_list);
}

netd::Result<Plan> parse_route_flush(std::string_view command,
                                     std::span<const std::string_view> args,
                                     const GlobalOptions& options) {
  // Takes no argument, but `flush table main` deserves the refusal, not "unknown argument".
  if (!args.empty()) {
    if (is_refused_route_word(args.front())) return Plan::refused(std::string(args.front()));
    return make_error(EINVAL, unknown_argument(args.front(), command));
  }
  json parameters = json::object();
  if (options.family != AF_UNSPEC) parameters["family"] = family_name(options.family);
  return Plan::call("io.netd.Routes.Flush", std::move(parameters), print_flush);
}

netd::Result<Plan> parse_route_get(std::string_view command, std::span<const std::string_view> args,
                                   const GlobalOptions& options) {
  std::optional<netd::IpAddress> address;
  for (std::string_view word : args) {
    if (is_refused_route_word(word)) return Plan::refused(std::string(word));
    if (address || !looks_like_address(word))
      return make_error(EINVAL, unknown_argument(word, command));
    auto parsed = netd::IpAddress::parse(word);
    if (!parsed.ok())
      return make_error(
          EINVAL, "'route " + std::string(command) + "' needs an address, got " + in_quotes(word));
    address = *parsed;
  }
  if (!address) return make_error(EINVAL, "'route " + std::string(command) + "' needs an address");
  if (options.family != AF_UNSPEC && address->family() != options.family)
    return make_error(EINVAL, in_quotes(address->to_string()) + " is not an " +
                                  std::string(family_label(options.family)) + " address (" +
                                  (options.family == AF_INET ? "-4" : "-6") + " was given)");
  json parameters = {{"address", address->to_string()}};
  return Plan::call("io.netd.Routes.Get", std::move(parameters), print_route_get);
}

}  // namespace sliceip
