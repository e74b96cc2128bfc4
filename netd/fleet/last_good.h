// The last fleet policy netd applied, kept under state_dir so that a netd starting while etcd is
// unreachable serves it (and says so) rather than no policy. It holds the keys the policy was
// built from, not the policy: fleet_policy() rebuilds the same one from them and the local file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "lib/core/result.h"
#include "netd/fleet/fleet_policy.h"

namespace netd::fleet {

struct LastGood {
  int64_t revision = 0;    // the etcd revision the keys were read at
  int64_t applied_at = 0;  // when netd applied it (seconds since the epoch)
  // What the keys were read under: rebuild with these, not the local file's current ones, or
  // a changed etcd_prefix would find none of the keys and make a policy with no slices.
  std::string prefix;
  std::string node;
  KeyMap keys;  // policy_keys() of the revision: slices and this host's overrides
  friend bool operator==(const LastGood&, const LastGood&) = default;
};

// state_dir/fleet-policy.json
std::string last_good_path(const std::string& state_dir);

// Replaces the file whole (state_dir created 0700 if missing; the file 0600: slices name their
// members). A crash leaves the previous revision's file or this one.
Status write_last_good(const std::string& state_dir, const LastGood& good);

// nullopt when there is none (netd never applied a fleet policy here). A file that is there
// but damaged (not JSON, a field missing or of the wrong type, not netd's format) is EINVAL
// naming the file and what is wrong: never "no policy", which would lift every slice's limits.
Result<std::optional<LastGood>> read_last_good(const std::string& state_dir);

// The same, for the file's text (tests, and `netd --check-policy` of a saved file).
std::string format_last_good(const LastGood& good);
Result<LastGood> parse_last_good(std::string_view text);

}  // namespace netd::fleet
