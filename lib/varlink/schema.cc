#include "lib/varlink/schema.h"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "lib/core/errors.h"

namespace netd::varlink {

namespace {

const char* kind_words(ValueKind kind) {
  switch (kind) {
    case ValueKind::kBool: return "a boolean";
    case ValueKind::kInt: return "an integer";
    case ValueKind::kFloat: return "a number";
    case ValueKind::kString: return "a string";
    case ValueKind::kObject:
    case ValueKind::kStruct: return "an object";
  }
  return "?";
}

// nlohmann keeps integers above INT64_MAX as unsigned; the IDL's int is 64-bit signed.
bool fits_int64(const nlohmann::json& v) {
  return !v.is_number_unsigned() || v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
}

bool has_kind(const nlohmann::json& v, ValueKind kind) {
  switch (kind) {
    case ValueKind::kBool: return v.is_boolean();
    case ValueKind::kInt: return v.is_number_integer() && fits_int64(v);
    case ValueKind::kFloat: return v.is_number();
    case ValueKind::kString: return v.is_string();
    case ValueKind::kObject:
    case ValueKind::kStruct: return v.is_object();
  }
  return false;
}

std::string field_in(std::string_view key, const std::string& where) {
  return "field '" + std::string(key) + "' in " + where;
}

// A field's value (array and map elements included) has the declared kind; nested structs
// are checked later, one level at a time.
Status check_shape(const FieldSchema& f, const nlohmann::json& v, const std::string& where) {
  auto element_error = [&](const std::string& element) {
    return invalid("element " + element + " of " + field_in(f.name, where) + " must be " + kind_words(f.kind));
  };
  switch (f.container) {
    case Container::kNone:
      if (!has_kind(v, f.kind)) {
        if (f.kind == ValueKind::kInt && v.is_number_integer())
          return invalid(field_in(f.name, where) + " must be an integer of at most 2^63-1");
        return invalid(field_in(f.name, where) + " must be " + kind_words(f.kind));
      }
      return ok_status();
    case Container::kArray:
      if (!v.is_array()) return invalid(field_in(f.name, where) + " must be an array");
      for (size_t i = 0; i < v.size(); ++i)
        if (!has_kind(v[i], f.kind)) return element_error(std::to_string(i));
      return ok_status();
    case Container::kMap:
      if (!v.is_object()) return invalid(field_in(f.name, where) + " must be an object");
      for (const auto& [k, e] : v.items())
        if (!has_kind(e, f.kind)) return element_error("'" + k + "'");
      return ok_status();
  }
  return ok_status();
}

const FieldSchema* find_field(const TypeSchema& schema, std::string_view key) {
  for (const auto& f : schema.fields)
    if (f.name == key) return &f;
  return nullptr;
}

}  // namespace

Status validate(const TypeSchema& schema, nlohmann::json& value, const std::string& where) {
  if (!value.is_object()) return invalid(where + " must be an object");
  std::vector<std::string> nulls;
  for (const auto& [key, v] : value.items()) {
    const FieldSchema* f = find_field(schema, key);
    if (f == nullptr) return invalid("unknown field '" + key + "' in " + where);
    if (v.is_null() && f->optional) {
      nulls.push_back(key);
      continue;
    }
    NETD_TRY(check_shape(*f, v, where));
  }
  for (const auto& key : nulls) value.erase(key);
  for (const auto& f : schema.fields)
    if (!f.optional && !value.contains(f.name)) return invalid("missing " + field_in(f.name, where));
  for (const auto& f : schema.fields) {
    if (f.kind != ValueKind::kStruct) continue;
    auto it = value.find(f.name);
    if (it == value.end()) continue;
    const std::string name(f.name);
    switch (f.container) {
      case Container::kNone:
        NETD_TRY(validate(*f.type, *it, name));
        break;
      case Container::kArray:
        for (size_t i = 0; i < it->size(); ++i) NETD_TRY(validate(*f.type, (*it)[i], name + "[" + std::to_string(i) + "]"));
        break;
      case Container::kMap:
        for (auto& [k, e] : it->items()) NETD_TRY(validate(*f.type, e, name + "['" + k + "']"));
        break;
    }
  }
  return ok_status();
}

const MethodSchema* find_method_schema(std::string_view name) {
  for (const MethodSchema* m : all_method_schemas())
    if (m->name == name) return m;
  return nullptr;
}

namespace {

template <typename T>
Result<T> narrow(std::string_view name, int64_t value) {
  // An int64 always fits 64 unsigned bits once it is not negative.
  constexpr uint64_t kMax = std::min<uint64_t>(std::numeric_limits<T>::max(), std::numeric_limits<int64_t>::max());
  if (value < 0 || static_cast<uint64_t>(value) > kMax)
    return invalid(std::string(name) + " must be 0.." + std::to_string(kMax));
  return static_cast<T>(value);
}

template <typename T>
Result<std::optional<T>> narrow(std::string_view name, const std::optional<int64_t>& value) {
  if (!value) return std::optional<T>();
  NETD_ASSIGN_OR_RETURN(T v, narrow<T>(name, *value));
  return std::optional<T>(v);
}

}  // namespace

Result<uint32_t> to_u32(std::string_view name, int64_t value) { return narrow<uint32_t>(name, value); }
Result<uint64_t> to_u64(std::string_view name, int64_t value) { return narrow<uint64_t>(name, value); }
Result<std::optional<uint32_t>> to_u32(std::string_view name, const std::optional<int64_t>& value) {
  return narrow<uint32_t>(name, value);
}
Result<std::optional<uint64_t>> to_u64(std::string_view name, const std::optional<int64_t>& value) {
  return narrow<uint64_t>(name, value);
}

}  // namespace netd::varlink
