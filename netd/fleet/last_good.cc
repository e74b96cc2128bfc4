#include "netd/fleet/last_good.h"

#include <exception>
#include <nlohmann/json.hpp>

#include "lib/core/state_file.h"
#include "lib/fleet/utc_time.h"

namespace netd::fleet {

namespace {

using nlohmann::json;

// Says what the file is, so a file of another kind (or a later format) is named as such.
constexpr std::string_view kFormat = "netd fleet policy 1";
// etcd holds at most a few GiB in all, and one key ~1.5 MiB; thousands of slices of a few
// hundred bytes are a few MiB. A file beyond this is not one netd wrote.
constexpr size_t kMaxFileBytes = 256u << 20;

Error damaged(const std::string& what) { return make_error(EINVAL, "not a last good fleet policy: " + what); }

}  // namespace

std::string last_good_path(const std::string& state_dir) { return state_dir + "/fleet-policy.json"; }

std::string format_last_good(const LastGood& good) {
  nlohmann::ordered_json doc;
  doc["format"] = kFormat;
  doc["revision"] = good.revision;
  doc["applied_at"] = format_utc(good.applied_at);
  doc["prefix"] = good.prefix;
  doc["node"] = good.node;
  doc["keys"] = nlohmann::ordered_json::object();
  for (const auto& [key, value] : good.keys) doc["keys"][key] = value;
  // Values that are not UTF-8 never made a valid policy (TOML is UTF-8), so they are never
  // here; should one be, it is written replaced rather than throwing out of netd.
  return doc.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Result<LastGood> parse_last_good(std::string_view text) {
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return damaged("not JSON (truncated or overwritten)");
  if (!doc.is_object()) return damaged("not a JSON object");
  auto field = [&](const char* name, json::value_t type, const char* expected) -> Result<const json*> {
    auto it = doc.find(name);
    if (it == doc.end()) return damaged(std::string("no \"") + name + "\"");
    const bool fits = it->type() == type || (type == json::value_t::number_integer && it->is_number_unsigned());
    if (!fits) return damaged(std::string("\"") + name + "\" is not " + expected);
    return &*it;
  };
  NETD_ASSIGN_OR_RETURN(const json* format, field("format", json::value_t::string, "a string"));
  if (format->get<std::string>() != kFormat)
    return damaged("format '" + format->get<std::string>().substr(0, 40) + "', not '" + std::string(kFormat) + "'");
  LastGood good;
  NETD_ASSIGN_OR_RETURN(const json* revision, field("revision", json::value_t::number_integer, "an integer"));
  good.revision = revision->get<int64_t>();
  if (good.revision <= 0) return damaged("\"revision\" " + std::to_string(good.revision) + " is no etcd revision");
  NETD_ASSIGN_OR_RETURN(const json* applied_at, field("applied_at", json::value_t::string, "a string"));
  auto at = parse_utc(applied_at->get<std::string>());
  if (!at.ok()) return damaged("\"applied_at\": " + at.error().message);
  good.applied_at = *at;
  NETD_ASSIGN_OR_RETURN(const json* prefix, field("prefix", json::value_t::string, "a string"));
  good.prefix = prefix->get<std::string>();
  NETD_ASSIGN_OR_RETURN(const json* node, field("node", json::value_t::string, "a string"));
  good.node = node->get<std::string>();
  NETD_ASSIGN_OR_RETURN(const json* keys, field("keys", json::value_t::object, "an object"));
  for (const auto& [key, value] : keys->items()) {
    if (!value.is_string()) return damaged("the value of \"" + key.substr(0, 200) + "\" is not a string");
    if (!key.starts_with(good.prefix)) return damaged("\"" + key.substr(0, 200) + "\" is not under the prefix");
    good.keys.emplace(key, value.get<std::string>());
  }
  return good;
}

Status write_last_good(const std::string& state_dir, const LastGood& good) {
  NETD_TRY(make_private_dir(state_dir));
  return replace_state_file(last_good_path(state_dir), format_last_good(good), 0600);
}

Result<std::optional<LastGood>> read_last_good(const std::string& state_dir) {
  const std::string path = last_good_path(state_dir);
  NETD_ASSIGN_OR_RETURN(std::optional<std::string> text, read_state_file(path, kMaxFileBytes));
  if (!text) return std::optional<LastGood>();
  auto good = parse_last_good(*text);
  if (!good.ok()) return std::move(good).error().with_context(path);
  return std::optional<LastGood>(std::move(good).value());
}

}  // namespace netd::fleet
