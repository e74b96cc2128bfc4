#include "netd/policy/slice_diff.h"

#include <algorithm>

namespace netd::policy {

bool same_slice(const SliceSpec& a, const SliceSpec& b) {
  if (&a == &b) return true;
  if (a.id != b.id || a.name != b.name) return false;  // the cheap refusals before a copy
  SliceSpec relined = a;
  relined.source = b.source;
  return relined == b;
}

std::vector<uint32_t> SliceDiff::touched_ids() const {
  std::vector<uint32_t> ids;
  ids.reserve(added.size() + removed.size() + changed.size());
  for (const SliceSpec* s : added) ids.push_back(s->id);
  for (const SliceSpec* s : removed) ids.push_back(s->id);
  for (const Change& c : changed) ids.push_back(c.next->id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

SliceDiff diff_slices(const Policy& previous, const Policy& next) {
  SliceDiff diff;
  diff.settings_changed = !(previous.netd == next.netd);
  // A reload usually keeps the order of the slices it keeps, so most positions hold the very
  // same shared spec in both: those cost a pointer comparison, not an index lookup.
  const size_t common = std::min(previous.slices.size(), next.slices.size());
  size_t same_prefix = 0;
  while (same_prefix < common && previous.slices.shared(same_prefix) == next.slices.shared(same_prefix)) ++same_prefix;
  size_t same_suffix = 0;
  while (same_suffix < common - same_prefix &&
         previous.slices.shared(previous.slices.size() - 1 - same_suffix) ==
             next.slices.shared(next.slices.size() - 1 - same_suffix))
    ++same_suffix;

  // Only the middle of each list is looked up in the other.
  for (size_t i = same_prefix; i + same_suffix < next.slices.size(); ++i) {
    const SliceSpec& s = next.slices[i];
    if (next.find_by_id(s.id) != &s) continue;  // a repeated id: its first occurrence stands for it
    const SliceSpec* was = previous.find_by_id(s.id);
    if (was == nullptr)
      diff.added.push_back(&s);
    else if (!same_slice(*was, s))
      diff.changed.push_back({was, &s});
  }
  for (size_t i = same_prefix; i + same_suffix < previous.slices.size(); ++i) {
    const SliceSpec& s = previous.slices[i];
    if (previous.find_by_id(s.id) != &s) continue;
    if (next.find_by_id(s.id) == nullptr) diff.removed.push_back(&s);
  }
  return diff;
}

}  // namespace netd::policy
