#include "tools/common/reply.h"

#include <cerrno>

namespace netd::cli {

using nlohmann::json;

netd::Error bad_reply(std::string_view what) {
  return make_error(EPROTO, "unexpected reply from netd: " + std::string(what));
}

const json* field(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it != object.end() ? &*it : nullptr;
}

const json* string_field(const json& object, const char* key) {
  const json* value = field(object, key);
  return value != nullptr && value->is_string() ? value : nullptr;
}

const json* integer_field(const json& object, const char* key) {
  const json* value = field(object, key);
  return value != nullptr && value->is_number_integer() ? value : nullptr;
}

std::string string_or(const json& object, const char* key, std::string fallback) {
  const json* value = string_field(object, key);
  return value != nullptr ? value->get<std::string>() : fallback;
}

bool flag_of(const json& object, const char* key) {
  const json* value = field(object, key);
  return value != nullptr && value->is_boolean() && value->get<bool>();
}

std::string integer_text(const json& object, const char* key) {
  const json* value = integer_field(object, key);
  return value != nullptr ? value->dump() : "?";
}

}  // namespace netd::cli
