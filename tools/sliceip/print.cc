#include "tools/sliceip/print.h"

#include <cinttypes>
#include <cstdio>

#include "lib/core/net_types.h"
#include "tools/common/reply.h"

namespace sliceip {

namespace {

using netd::cli::bad_reply;
using netd::cli::integer_field;
using netd::cli::integer_text;
using netd::cli::json_text;
using netd::cli::string_field;
using nlohmann::json;
using nlohmann::ordered_json;

// ip shows 0/0 as "default" and host routes without their length.
std::string display_prefix(const std::string& dst) {
  auto prefix = netd::Prefix::parse(dst);
  if (!prefix.ok()) return dst;
  if (prefix->length() == 0) return "default";
  if (prefix->length() == prefix->address().bit_length()) return prefix->address().to_string();
  return dst;
}

std::string route_type(const json& route) {
  const json* type = string_field(route, "type");
  if (type == nullptr || type->get_ref<const std::string&>() == "unicast") return "";
  return type->get<std::string>();
}

// The fields after dst, in ip's order, with their word in the text and their IDL type.
struct RouteAttribute {
  const char* key;
  const char* word;
  bool integer;  // else a string
};
constexpr RouteAttribute kRouteAttributes[] = {
    {"gateway", "via", false},  {"dev", "dev", false}, {"src", "src", false},
    {"metric", "metric", true}, {"mtu", "mtu", true},
};

const json* attribute_field(const json& route, const RouteAttribute& attribute) {
  return attribute.integer ? integer_field(route, attribute.key)
                           : string_field(route, attribute.key);
}

// "via 192.0.2.1 dev uplink1 ..." for the fields present, each preceded by a space.
std::string route_attributes_text(const json& route) {
  std::string text;
  for (const auto& attribute : kRouteAttributes) {
    const json* value = attribute_field(route, attribute);
    if (value == nullptr) continue;
    text += std::string(" ") + attribute.word + " " +
            (value->is_string() ? value->get<std::string>() : value->dump());
  }
  return text;
}

void add_route_attributes_json(const json& route, ordered_json& out) {
  for (const auto& attribute : kRouteAttributes)
    if (const json* value = attribute_field(route, attribute)) out[attribute.key] = *value;
}

std::string hex(uint64_t value) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, value);
  return buf;
}

// 33554432 → "32MiB", as the policy file spells sizes.
std::string size_text(uint64_t bytes) {
  constexpr std::pair<uint64_t, const char*> kUnits[] = {
      {1ULL << 30, "GiB"}, {1ULL << 20, "MiB"}, {1ULL << 10, "KiB"}};
  for (const auto& [factor, unit] : kUnits)
    if (bytes != 0 && bytes % factor == 0) return std::to_string(bytes / factor) + unit;
  return std::to_string(bytes);
}

// "a b c", or "none" for an empty or missing list.
std::string list_text(const json& object, const char* key) {
  std::string text;
  if (object.contains(key) && object[key].is_array()) {
    for (const auto& item : object[key]) {
      if (!text.empty()) text += ' ';
      text += item.is_string() ? item.get<std::string>() : item.dump();
    }
  }
  return text.empty() ? "none" : text;
}

std::string slice_text(const json& slice) {
  const json* name_field = string_field(slice, "name");
  std::string name = name_field != nullptr ? name_field->get<std::string>() : "?";
  auto unsigned_of = [&](const char* key) -> uint64_t {
    const json* n = integer_field(slice, key);
    return n != nullptr ? n->get<uint64_t>() : 0;
  };
  std::string text = "slice " + name + " id " + integer_text(slice, "id") + " mark " +
                     hex(unsigned_of("mark")) + "/" + hex(unsigned_of("mark_mask")) + " table " +
                     integer_text(slice, "table") + "\n";
  text += "    uids " + list_text(slice, "uids") + " gids " + list_text(slice, "gids") + "\n";
  text += "    netblock " + list_text(slice, "netblock") + "\n";
  text += "    route_devices " + list_text(slice, "route_devices") + "\n";
  text += "    route_prefixes " + list_text(slice, "route_prefixes") + "\n";
  text += "    routes " + integer_text(slice, "routes") + "/" + integer_text(slice, "max_routes") +
          " max_vifs " + integer_text(slice, "max_vifs") + "\n";
  bool capture_all = slice.contains("capture_all") && slice["capture_all"].is_boolean() &&
                     slice["capture_all"].get<bool>();
  text +=
      "    raw " + list_text(slice, "raw") + " capture_all " + (capture_all ? "yes" : "no") +
      " packet_send_devices " + list_text(slice, "packet_send_devices") + "\n";
  const json* rate = string_field(slice, "rate");
  const json* ceil = string_field(slice, "ceil");
  if (rate == nullptr && ceil == nullptr) {
    text += "    shaping none\n";
  } else {
    text += "   ";
    if (rate != nullptr) text += " rate " + rate->get<std::string>();
    if (ceil != nullptr) text += " ceil " + ceil->get<std::string>();
    text += "\n";
  }
  text += "    bind_ports " + list_text(slice, "bind_ports") + " max_sockbuf " +
          (integer_field(slice, "max_sockbuf") ? size_text(unsigned_of("max_sockbuf")) : "?") +
          " max_priority " + integer_text(slice, "max_priority") + "\n";
  return text;
}

}  // namespace

std::string route_text(const json& route) {
  std::string type = route_type(route);
  std::string text = type.empty() ? "" : type + " ";
  const json* dst = string_field(route, "dst");
  text += dst != nullptr ? display_prefix(dst->get<std::string>()) : "?";
  return text + route_attributes_text(route);
}

ordered_json route_json(const json& route) {
  ordered_json out = ordered_json::object();
  std::string type = route_type(route);
  if (!type.empty()) out["type"] = type;
  if (const json* dst = string_field(route, "dst"))
    out["dst"] = display_prefix(dst->get<std::string>());
  add_route_attributes_json(route, out);
  return out;
}

netd::Result<std::string> print_nothing(const json&, const json&, const GlobalOptions&) {
  return std::string();
}

netd::Result<std::string> print_route_list(const json&, const json& reply,
                                           const GlobalOptions& options) {
  if (!reply.contains("routes") || !reply["routes"].is_array())
    return bad_reply("no 'routes' list");
  const json& routes = reply["routes"];
  if (options.json) {
    ordered_json out = ordered_json::array();
    for (const auto& route : routes) out.push_back(route_json(route));
    return json_text(out, options);
  }
  std::string text;
  for (const auto& route : routes) text += route_text(route) + "\n";
  return text;
}

netd::Result<std::string> print_route_get(const json& request, const json& reply,
                                          const GlobalOptions& options) {
  if (!reply.contains("route") || !reply["route"].is_object()) return bad_reply("no 'route'");
  const json& route = reply["route"];
  // The address asked about, as `ip route get` prints it (the route's own dst may be wider).
  const json* address = string_field(request, "address");
  std::string dst = address != nullptr ? address->get<std::string>() : "?";
  std::string type = route_type(route);
  const json* table = integer_field(reply, "table");
  if (options.json) {
    ordered_json out = ordered_json::object();
    if (!type.empty()) out["type"] = type;
    out["dst"] = dst;
    add_route_attributes_json(route, out);
    if (table != nullptr) out["table"] = *table;
    return json_text(ordered_json::array({out}), options);
  }
  std::string text = (type.empty() ? "" : type + " ") + dst + route_attributes_text(route);
  if (table != nullptr) text += " table " + table->dump();
  return text + "\n";
}

netd::Result<std::string> print_flush(const json&, const json& reply,
                                      const GlobalOptions& options) {
  if (!options.json) return std::string();
  const json* deleted = integer_field(reply, "deleted");
  if (deleted == nullptr) return bad_reply("no 'deleted' count");
  ordered_json out = {{"deleted", *deleted}};
  return json_text(out, options);
}

netd::Result<std::string> print_slice(const json&, const json& reply,
                                      const GlobalOptions& options) {
  if (!reply.contains("slice") || !reply["slice"].is_object()) return bad_reply("no 'slice'");
  if (options.json) return json_text(reply["slice"], options);
  return slice_text(reply["slice"]);
}

netd::Result<std::string> print_slice_list(const json&, const json& reply,
                                           const GlobalOptions& options) {
  if (!reply.contains("slices") || !reply["slices"].is_array())
    return bad_reply("no 'slices' list");
  if (options.json) return json_text(reply["slices"], options);
  std::string text;
  for (const auto& slice : reply["slices"])
    if (slice.is_object()) text += slice_text(slice);
  return text;
}

ErrorReport describe_error(std::string_view error_name, const json& parameters) {
  return netd::cli::describe_error("sliceip", netd::cli::ErrorLabels::kShown, error_name,
                                   parameters);
}

}  // namespace sliceip
