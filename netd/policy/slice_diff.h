// What a reload changes among the slices, pure: which slice ids the next policy adds, removes
// or changes, so the kernel backends can do the work of those slices only (at thousands of
// slices a reload that walks every slice's state costs milliseconds per backend).
//
// Slices are matched by id, because the id is what the kernel state hangs on (mark, route
// table, shaping class): a slice renamed under its id is changed, a slice given another id is
// removed and added. A spec the next policy shares with the previous one (PolicyLoader hands
// out what it remembers) is unchanged without a look at its fields; one read again is
// compared field by field, its `source` ("file:line") aside, so a comment added above it in
// its file changes nothing.
#pragma once

#include <cstdint>
#include <vector>

#include "netd/policy/policy.h"

namespace netd::policy {

struct SliceDiff {
  // The [netd] table differs: marks, tables, uplinks, paths may all have moved, so the
  // backends treat every slice as changed.
  bool settings_changed = false;
  std::vector<const SliceSpec*> added;    // in the next policy, their id in none of the previous
  std::vector<const SliceSpec*> removed;  // in the previous policy, their id in none of the next
  struct Change {
    const SliceSpec* previous;
    const SliceSpec* next;
  };
  std::vector<Change> changed;  // the same id in both, anything else different

  bool empty() const { return !settings_changed && added.empty() && removed.empty() && changed.empty(); }
  // Every id added, removed or changed, ascending, each once.
  std::vector<uint32_t> touched_ids() const;
};

// The pointers point into `previous` and `next`, which must outlive the diff. Slices whose id
// repeats (refused by validation) are matched by their first occurrence.
SliceDiff diff_slices(const Policy& previous, const Policy& next);

// Whether two specs grant the same, whatever line each was read from.
bool same_slice(const SliceSpec& a, const SliceSpec& b);

}  // namespace netd::policy
