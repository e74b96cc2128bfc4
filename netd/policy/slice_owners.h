// Which slice held each id when netd last applied a policy, and its raw rights. A restart
// compares the policy it starts with against this record as a reload compares against the
// running policy, so an id given to a slice of another name while netd was down (or killed
// mid-reload) does not hand the new slice the old one's sockets, routes or devices, and a slice
// whose raw kinds or capture_all were taken away meanwhile loses the sockets it got under them.
// Pure: the record's text in and out.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lib/core/result.h"
#include "netd/policy/policy.h"
#include "netd/policy/slice_diff.h"

namespace netd::policy {

struct SliceOwner {
  std::string name;
  // The slice's `raw` kinds and capture_all when the record was written; rights_known is false
  // for a line of a record written before netd recorded them ("id name"): nothing then counts
  // as taken away.
  bool rights_known = false;
  std::vector<std::string> raw;
  bool capture_all = false;

  bool operator==(const SliceOwner&) const = default;
};

using SliceOwners = std::map<uint32_t, SliceOwner>;  // slice id -> its slice then

SliceOwners owners_of(const Policy& p);
// Makes `owners` (owners_of the previous policy of `diff`) owners_of its next one, at the cost
// of the slices the diff names; true if anything changed (the record is then written again).
bool update_owners(SliceOwners& owners, const SliceDiff& diff);

// One "id name raw=KIND,... capture_all=true|false" line per slice, after a comment line saying
// what the file is.
std::string format_slice_owners(const SliceOwners& owners);
// Refuses (EINVAL, naming the line) anything format_slice_owners would not have written, but
// the older "id name" lines (rights unknown): the record is only trusted whole.
Result<SliceOwners> parse_slice_owners(std::string_view text);

// The record's journal: what reloads changed since the record was last written whole, one line
// per slice id: the owner as a record line, or "-id" for an id no slice holds any more. Appended
// after each reload that changes an owner, so that costs the change, not the number of slices.
// The lines for `ids` as `owners` has them.
std::string format_owner_changes(const SliceOwners& owners, const std::vector<uint32_t>& ids);
// Applies a journal to `owners`, line by line; returns the number of lines applied. A last line
// without its newline was cut short by a crash mid-append and is left out (that reload is then
// not recorded, as if the crash came before it); any other malformed line is EINVAL, named.
Result<size_t> apply_owner_changes(SliceOwners& owners, std::string_view journal);

// `base` with its slices replaced by the recorded ones: the "previous" policy that
// Daemon::apply_policy compares with. Only ids, names, raw rights and marks are read from it,
// and the marks come from base's [netd] (mark_mask cannot change without a teardown).
Policy policy_with_owners(const Policy& base, const SliceOwners& owners);

}  // namespace netd::policy
