// Which slice held each id when netd last applied a policy. A restart compares the policy it
// starts with against this record as a reload compares against the running policy, so an id
// given to a slice of another name while netd was down (or killed mid-reload) does not hand
// the new slice the old one's sockets, routes or devices. Pure: the record's text in and out.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "lib/core/result.h"
#include "netd/policy/policy.h"

namespace netd::policy {

using SliceOwners = std::map<uint32_t, std::string>;  // slice id -> slice name

SliceOwners owners_of(const Policy& p);

// One "id name" line per slice, after a comment line saying what the file is.
std::string format_slice_owners(const SliceOwners& owners);
// Refuses (EINVAL, naming the line) anything format_slice_owners would not have written: the
// record is only trusted whole.
Result<SliceOwners> parse_slice_owners(std::string_view text);

// `base` with its slices replaced by the recorded ids and names: the "previous" policy that
// Daemon::apply_policy compares with. Only ids, names and marks are read from it, and the
// marks come from base's [netd] (mark_mask cannot change without a teardown).
Policy policy_with_owners(const Policy& base, const SliceOwners& owners);

}  // namespace netd::policy
