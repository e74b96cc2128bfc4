#include "netd/ops/params.h"

#include "lib/core/errors.h"

namespace netd::ops {

namespace {

bool has_type(const nlohmann::json& v, FieldType type) {
  switch (type) {
    case FieldType::kString: return v.is_string();
    case FieldType::kInt: return v.is_number_integer();
    case FieldType::kBool: return v.is_boolean();
    case FieldType::kObject: return v.is_object();
    case FieldType::kArray: return v.is_array();
  }
  return false;
}

const char* type_name(FieldType type) {
  switch (type) {
    case FieldType::kString: return "a string";
    case FieldType::kInt: return "an integer";
    case FieldType::kBool: return "a boolean";
    case FieldType::kObject: return "an object";
    case FieldType::kArray: return "an array";
  }
  return "?";
}

}  // namespace

Status check_fields(const nlohmann::json& object, std::initializer_list<Field> fields, const std::string& where) {
  if (!object.is_object()) return invalid(where + " must be an object");
  for (const auto& [key, value] : object.items()) {
    const Field* known = nullptr;
    for (const auto& f : fields)
      if (key == f.name) known = &f;
    if (known == nullptr) return invalid("unknown field '" + key + "' in " + where);
    if (!has_type(value, known->type))
      return invalid("field '" + key + "' in " + where + " must be " + type_name(known->type));
  }
  for (const auto& f : fields)
    if (f.required && !object.contains(f.name)) return invalid("missing field '" + std::string(f.name) + "' in " + where);
  return ok_status();
}

Result<std::optional<uint32_t>> optional_u32(const nlohmann::json& object, const char* name) {
  if (!object.contains(name)) return std::optional<uint32_t>();
  const auto& v = object[name];
  if (!v.is_number_integer() || (v.is_number_unsigned() ? v.get<uint64_t>() > UINT32_MAX : v.get<int64_t>() < 0))
    return invalid(std::string(name) + " must be 0.." + std::to_string(UINT32_MAX));
  return std::optional<uint32_t>(static_cast<uint32_t>(v.get<uint64_t>()));
}

}  // namespace netd::ops
