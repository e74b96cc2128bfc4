#include "netd/policy/slice_owners.h"

#include <cerrno>
#include <charconv>

namespace netd::policy {

namespace {

constexpr std::string_view kHeader = "# netd: the slice that held each id (id name), written at every applied policy\n";

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (c <= ' ' || c == 0x7f) return false;
  return true;
}

}  // namespace

SliceOwners owners_of(const Policy& p) {
  SliceOwners out;
  for (const auto& s : p.slices) out[s.id] = s.name;
  return out;
}

std::string format_slice_owners(const SliceOwners& owners) {
  std::string out(kHeader);
  for (const auto& [id, name] : owners) out += std::to_string(id) + " " + name + "\n";
  return out;
}

Result<SliceOwners> parse_slice_owners(std::string_view text) {
  SliceOwners out;
  size_t number = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    if (end == std::string_view::npos)
      return make_error(EINVAL, "line " + std::to_string(number + 1) + " is cut short (no newline)");
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    ++number;
    if (!line.empty() && line.front() == '#') continue;
    auto refuse = [&](const std::string& why) {
      return make_error(EINVAL, "line " + std::to_string(number) + " (\"" + std::string(line) + "\"): " + why);
    };
    size_t space = line.find(' ');
    if (space == std::string_view::npos) return refuse("not \"id name\"");
    uint32_t id = 0;
    auto [ptr, ec] = std::from_chars(line.data(), line.data() + space, id);
    if (ec != std::errc() || ptr != line.data() + space || id == 0) return refuse("the id is not a positive number");
    std::string_view name = line.substr(space + 1);
    if (!valid_name(name)) return refuse("the name is empty or has blanks or control characters");
    if (!out.emplace(id, std::string(name)).second) return refuse("id " + std::to_string(id) + " is listed twice");
  }
  return out;
}

Policy policy_with_owners(const Policy& base, const SliceOwners& owners) {
  Policy out;
  out.netd = base.netd;
  for (const auto& [id, name] : owners) {
    SliceSpec s;
    s.id = id;
    s.name = name;
    out.slices.push_back(std::move(s));
  }
  return out;
}

}  // namespace netd::policy
