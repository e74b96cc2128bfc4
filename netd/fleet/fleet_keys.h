// What each etcd key under [netd] etcd_prefix is to this host (the layout is fleet_policy.h's).
// Apart from the policy assembly, because the watcher (netd-fleet.so) needs this and not the
// policy parser.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace netd::fleet {

// The keys under the prefix, whole keys (prefix included) -> values.
using KeyMap = std::map<std::string, std::string>;

// What a key under the prefix is to this host.
enum class KeyRole {
  kSlice,      // <prefix>slices/<name>
  kHostSlice,  // <prefix>hosts/<this node>/slices/<name>
  kOtherHost,  // <prefix>hosts/<another node>/...
  kNode,       // <prefix>nodes/<node>
  kUnknown,    // anything else under the prefix (noted, never an error)
  kOutside,    // not under the prefix at all
};
struct KeyPlace {
  KeyRole role = KeyRole::kUnknown;
  std::string slice;  // the name the key gives (kSlice, kHostSlice), unchecked
};
KeyPlace place_of(std::string_view key, std::string_view prefix, std::string_view node);

}  // namespace netd::fleet
