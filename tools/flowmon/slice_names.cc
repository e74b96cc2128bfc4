#include "tools/flowmon/slice_names.h"

#include <cerrno>
#include <limits>

namespace flowmon {

namespace {

netd::Error bad(const std::string& what) {
  return netd::make_error(EPROTO, "netd's list of slices has " + what);
}

}  // namespace

netd::Result<SliceNames> SliceNames::from_reply(const nlohmann::json& parameters) {
  auto slices = parameters.find("slices");
  if (slices == parameters.end()) return SliceNames{};
  if (!slices->is_array()) return bad("slices that are not an array");
  std::map<uint32_t, std::string> names;
  for (const auto& entry : *slices) {
    const auto id = entry.is_object() ? entry.find("id") : entry.end();
    const auto name = entry.is_object() ? entry.find("name") : entry.end();
    if (id == entry.end() || !id->is_number_integer() || id->get<int64_t>() < 0 ||
        id->get<int64_t>() > std::numeric_limits<uint32_t>::max() || name == entry.end() || !name->is_string())
      return bad("a slices entry without id 0..4294967295 and name: " + entry.dump());
    if (!names.emplace(static_cast<uint32_t>(id->get<int64_t>()), name->get<std::string>()).second)
      return bad("slice id " + id->dump() + " twice in slices");
  }
  return SliceNames(std::move(names));
}

std::string_view SliceNames::name_of(uint32_t id) const {
  // "" rather than {}: libfixbuf is handed the pointer, which had better not be null.
  if (id == 0) return "";
  auto it = names_.find(id);
  return it == names_.end() ? std::string_view("") : std::string_view(it->second);
}

}  // namespace flowmon
