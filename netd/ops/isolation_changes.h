// What a reload changes in the tagging and port maps (uid / gid / bind port → owner's mark),
// from the slices it adds, removes and changes: the same as comparing uid_marks(), gid_marks()
// and reserved_ports() of both policies (isolation_plan.h), at the cost of the change rather
// than of every slice's keys. Pure.
#pragma once

#include "netd/kernel/bpf/map_changes.h"
#include "netd/policy/policy.h"
#include "netd/policy/slice_diff.h"

namespace netd::ops {

struct IsolationMapChanges {
  kernel::U32MapChanges uids, gids, ports;
};

// `diff` is diff_slices(previous, next), the two with the same mark_mask (check_reloadable
// keeps it), and both valid (no key in two slices).
IsolationMapChanges isolation_map_changes(const policy::Policy& next, const policy::SliceDiff& diff);

}  // namespace netd::ops
