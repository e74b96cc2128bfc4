// Which etcd keys make this host's policy, and the policy they make (man/netd.policy.5, FLEET).
// Pure: the keys under etcd_prefix as a map in, slice bodies / a validated Policy out; the
// watcher keeps the map and decides when to call.
//
// Under the prefix:
//   slices/<name>                  one slice: the keys of its [[slice]] table
//   hosts/<node>/slices/<name>     this host's version of it (another node's: not ours);
//                                  an empty value: the slice is not on this host
//   nodes/<node>                   the node registry (netd writes it; never policy)
//   anything else                  ignored with a note (a later netd may know it)
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lib/core/result.h"
#include "netd/fleet/fleet_keys.h"
#include "netd/policy/body_loader.h"
#include "netd/policy/loader.h"
#include "netd/policy/policy.h"

namespace netd::fleet {

// The slices the keys give this host, for policy::parse_policy_with_slices.
struct FleetSlices {
  std::vector<policy::SliceBody> slices;  // by name; source "etcd:<key>"
  std::vector<std::string> notes;         // keys ignored and why, for the log (one per key)
  std::vector<std::string> off_here;      // fleet slices an empty host value leaves off this host
};
// EINVAL naming the key for a slice key whose name is no slice name ("slices/Alice",
// "slices/a/b"): it was meant as a slice, and a revision with a bad slice is refused whole.
Result<FleetSlices> fleet_slices(const KeyMap& keys, std::string_view prefix, std::string_view node);

// The keys that decide this host's policy (its slices and overrides): what the last good
// store keeps. fleet_slices of them is fleet_slices of all the keys, notes aside.
KeyMap policy_keys(const KeyMap& keys, std::string_view prefix, std::string_view node);

// fleet_policy() that remembers the slices between revisions (policy::SliceBodyLoader): the
// watcher keeps one, so a revision that changes one slice of thousands parses and checks that
// one, and the policy shares the others' specs with the previous one (the reload's diff then
// passes them by pointer). Results are fleet_policy()'s.
class FleetPolicyBuilder {
 public:
  Result<policy::Policy> build(std::string_view main_text, const std::string& main_source, const KeyMap& keys,
                               std::string_view prefix, std::string_view node, const policy::HostLimits& host = {},
                               std::vector<std::string>* notes = nullptr);
  size_t last_slices_parsed() const { return loader_.last_bodies_parsed(); }

 private:
  policy::SliceBodyLoader loader_;
};

// The whole policy of this host: the local main file's text ([netd] and any local slices) and
// the slices of the keys, validated as one, as a file and its drop-ins are. A refusal names
// the key and line ("etcd:/netd/slices/alice:3: slice[alice].uids: ..."). `notes` (optional)
// receives fleet_slices' notes.
Result<policy::Policy> fleet_policy(std::string_view main_text, const std::string& main_source, const KeyMap& keys,
                                    std::string_view prefix, std::string_view node,
                                    const policy::HostLimits& host = {}, std::vector<std::string>* notes = nullptr);

}  // namespace netd::fleet
