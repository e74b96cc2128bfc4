// What the slices of an accepted policy hold that no other slice may (name, id, uids, gids,
// netblocks, bind ports), indexed, so a reload that reads a few slices checks those against the
// rest in the time of the few: check_across_slices over thousands of slices costs milliseconds.
// Pure, no syscalls.
//
// The index only says whether a change conflicts. PolicyLoader then makes check_across_slices
// over every slice say how, so a refusal reads the same whichever path found it.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "lib/core/net_types.h"
#include "netd/policy/policy.h"

namespace netd::policy {

class SliceClaims {
 public:
  // The specs must outlive their place here (PolicyLoader remembers them) and, together, pass
  // check_across_slices: each key is held by one spec.
  void add(const SliceSpec* spec);
  void remove(const SliceSpec* spec);
  void clear();
  size_t size() const { return ids_.size(); }

  // Whether check_across_slices would refuse the held slices less `dropped` plus `added`
  // (itself, within one added slice, or between two of them included). Costs the added and
  // dropped slices' keys, not the held ones'.
  bool conflicts(std::span<const SliceSpec* const> dropped, std::span<const SliceSpec* const> added) const;

 private:
  // (family, address, length): sorted so that, in a set without overlaps, a prefix that
  // overlaps any member overlaps its neighbour (as check_across_slices relies on).
  using NetKey = std::tuple<IpAddress, int, const SliceSpec*>;

  std::unordered_map<std::string_view, const SliceSpec*> names_;
  std::unordered_map<uint32_t, const SliceSpec*> ids_, uids_, gids_;
  std::map<NetKey, const Prefix*> netblocks_;
  std::vector<const SliceSpec*> ports_;  // by port; made on the first add
};

}  // namespace netd::policy
