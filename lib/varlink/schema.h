// The shape of a Varlink message, as the IDL declares it: generated from lib/varlink/*.varlink
// (cmake/varlink_gen.py) and checked here, once, before a request reaches its handler.
#pragma once

#include <nlohmann/json.hpp>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/core/result.h"

namespace netd::varlink {

enum class ValueKind { kBool, kInt, kFloat, kString, kObject, kStruct };
enum class Container { kNone, kArray, kMap };

struct TypeSchema;

struct FieldSchema {
  std::string_view name;
  ValueKind kind;
  Container container;
  bool optional;              // ?T: may be absent or null
  const TypeSchema* type;     // kStruct: the named type
};

struct TypeSchema {
  std::string_view name;      // "Route", "AddIn"
  std::span<const FieldSchema> fields;
};

struct MethodSchema {
  std::string_view name;      // "io.netd.Routes.Add"
  const TypeSchema* in;
  const TypeSchema* out;
};

// Checks value against schema and normalizes it in place: an optional field sent as null is
// removed (Varlink allows null for ?T; it means absent). `where` names value in messages
// ("parameters"); nested objects are named by their field ("route"), array elements by field
// and index ("addresses[1]").
//
// One level at a time, keys in sorted order: unknown fields, then types, then missing required
// fields; then the nested objects in declaration order. So the first error a client sees is
// the outermost one. Integers must fit int64_t. Refusals are InvalidArgument (EINVAL):
//   "<where> must be an object", "unknown field 'k' in <where>",
//   "field 'k' in <where> must be a string|an integer|...", "missing field 'k' in <where>".
Status validate(const TypeSchema& schema, nlohmann::json& value, const std::string& where);

// Every method of every interface netd serves (generated), sorted by interface.
const std::vector<const MethodSchema*>& all_method_schemas();
const MethodSchema* find_method_schema(std::string_view name);

// A validated int field as a narrower unsigned type: "<name> must be 0..<max>".
Result<uint32_t> to_u32(std::string_view name, int64_t value);
Result<uint64_t> to_u64(std::string_view name, int64_t value);
Result<std::optional<uint32_t>> to_u32(std::string_view name, const std::optional<int64_t>& value);
Result<std::optional<uint64_t>> to_u64(std::string_view name, const std::optional<int64_t>& value);

}  // namespace netd::varlink
