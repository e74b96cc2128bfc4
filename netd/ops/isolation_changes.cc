#include "netd/ops/isolation_changes.h"

namespace netd::ops {

IsolationMapChanges isolation_map_changes(const policy::Policy& next, const policy::SliceDiff& diff) {
  IsolationMapChanges out;
  // What the next policy's changed slices hold is set; what the previous one's held is unset
  // unless set again (a key kept by a changed slice, or moved between two of them).
  auto set = [&](const policy::SliceSpec& s) {
    const uint32_t mark = next.mark_of(s);
    for (uid_t uid : s.uids) out.uids.set[uid] = mark;
    for (gid_t gid : s.gids) out.gids.set[gid] = mark;
    for (const auto& range : s.bind_ports)
      for (uint32_t port = range.first; port <= range.last; ++port) out.ports.set[port] = mark;
  };
  auto unset = [&](const policy::SliceSpec& s) {
    for (uid_t uid : s.uids) out.uids.unset.push_back(uid);
    for (gid_t gid : s.gids) out.gids.unset.push_back(gid);
    for (const auto& range : s.bind_ports)
      for (uint32_t port = range.first; port <= range.last; ++port) out.ports.unset.push_back(port);
  };
  for (const policy::SliceSpec* s : diff.added) set(*s);
  for (const auto& c : diff.changed) set(*c.next);
  for (const policy::SliceSpec* s : diff.removed) unset(*s);
  for (const auto& c : diff.changed) unset(*c.previous);
  for (kernel::U32MapChanges* m : {&out.uids, &out.gids, &out.ports})
    std::erase_if(m->unset, [&](uint32_t key) { return m->set.count(key) != 0; });
  return out;
}

}  // namespace netd::ops
