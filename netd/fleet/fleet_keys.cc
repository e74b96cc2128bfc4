#include "netd/fleet/fleet_keys.h"

namespace netd::fleet {

namespace {

constexpr std::string_view kSlices = "slices/";
constexpr std::string_view kHosts = "hosts/";
constexpr std::string_view kNodes = "nodes/";

}  // namespace

KeyPlace place_of(std::string_view key, std::string_view prefix, std::string_view node) {
  if (!key.starts_with(prefix)) return {KeyRole::kOutside, {}};
  std::string_view rest = key.substr(prefix.size());
  if (rest.starts_with(kSlices)) return {KeyRole::kSlice, std::string(rest.substr(kSlices.size()))};
  if (rest.starts_with(kNodes)) return {KeyRole::kNode, {}};
  if (rest.starts_with(kHosts)) {
    rest.remove_prefix(kHosts.size());
    const size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return {KeyRole::kUnknown, {}};
    if (rest.substr(0, slash) != node) return {KeyRole::kOtherHost, {}};
    rest.remove_prefix(slash + 1);
    if (rest.starts_with(kSlices)) return {KeyRole::kHostSlice, std::string(rest.substr(kSlices.size()))};
  }
  return {KeyRole::kUnknown, {}};
}

}  // namespace netd::fleet
