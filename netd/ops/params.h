// Strict checks of a request's parameters: every field known, of the declared type,
// required ones present. Unknown fields are refused, so a misspelt or newer field is an error,
// never silently ignored.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

#include "lib/core/result.h"

namespace netd::ops {

enum class FieldType { kString, kInt, kBool, kObject, kArray };

struct Field {
  const char* name;
  FieldType type;
  bool required;
};

// `where` names the object in messages ("route", "parameters").
Status check_fields(const nlohmann::json& object, std::initializer_list<Field> fields, const std::string& where);

// An optional integer field of a checked object, within 0..UINT32_MAX.
Result<std::optional<uint32_t>> optional_u32(const nlohmann::json& object, const char* name);

}  // namespace netd::ops
