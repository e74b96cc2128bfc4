#include "lib/fleet/node_record.h"

#include <nlohmann/json.hpp>

#include "lib/fleet/utc_time.h"

namespace netd::fleet {

namespace {

using nlohmann::json;

constexpr size_t kMaxReasonBytes = 400;

// 0 (never) is written as null: a time of 1970 would read as a real one.
json time_value(int64_t unix_seconds) { return unix_seconds == 0 ? json(nullptr) : json(format_utc(unix_seconds)); }

}  // namespace

std::string health_refused(int64_t revision, std::string_view reason) {
  std::string text = "refused revision " + std::to_string(revision) + ": ";
  std::string_view cut = reason.substr(0, kMaxReasonBytes);
  for (char c : cut) text += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  if (reason.size() > kMaxReasonBytes) text += "...";
  return text;
}

std::string to_json(const NodeRecord& r) {
  nlohmann::ordered_json doc;
  doc["node"] = r.node;
  doc["revision"] = r.revision;
  doc["applied_at"] = time_value(r.applied_at);
  doc["health"] = r.health;
  doc["version"] = r.version;
  doc["pid"] = r.pid;
  doc["started_at"] = time_value(r.started_at);
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<NodeRecord> node_record_from_json(std::string_view text) {
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  auto bad = [](const std::string& what) { return make_error(EINVAL, "not a node record: " + what); };
  if (doc.is_discarded()) return bad("not JSON");
  if (!doc.is_object()) return bad("not a JSON object");
  NodeRecord r;
  auto string = [&](const char* name, std::string* out) -> Status {
    auto it = doc.find(name);
    if (it == doc.end() || !it->is_string()) return bad(std::string("\"") + name + "\" is not a string");
    *out = it->get<std::string>();
    return ok_status();
  };
  auto integer = [&](const char* name, int64_t* out) -> Status {
    auto it = doc.find(name);
    if (it == doc.end() || !it->is_number_integer()) return bad(std::string("\"") + name + "\" is not an integer");
    *out = it->get<int64_t>();
    return ok_status();
  };
  auto time = [&](const char* name, int64_t* out) -> Status {
    auto it = doc.find(name);
    if (it != doc.end() && it->is_null()) return ok_status();  // never
    std::string text;
    NETD_TRY(string(name, &text));
    auto t = parse_utc(text);
    if (!t.ok()) return bad(std::string("\"") + name + "\": " + t.error().message);
    *out = *t;
    return ok_status();
  };
  NETD_TRY(string("node", &r.node));
  NETD_TRY(integer("revision", &r.revision));
  NETD_TRY(time("applied_at", &r.applied_at));
  NETD_TRY(string("health", &r.health));
  NETD_TRY(string("version", &r.version));
  NETD_TRY(integer("pid", &r.pid));
  NETD_TRY(time("started_at", &r.started_at));
  return r;
}

}  // namespace netd::fleet
