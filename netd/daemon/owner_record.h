// The record of which slice held each id (policy/slice_owners), kept in state_dir so it
// outlives netd: read once at start, rewritten after every policy netd applied.
#pragma once

#include <optional>
#include <string>

#include "lib/core/result.h"
#include "netd/policy/slice_owners.h"

namespace netd::daemon {

// The file under state_dir.
std::string owner_record_path(const std::string& state_dir);

// nullopt when there is no record (first start, or state_dir emptied): netd then cannot tell
// a changed owner from an unchanged one and keeps what it finds, as before the record existed.
Result<std::optional<policy::SliceOwners>> read_owner_record(const std::string& state_dir);

// Creates state_dir (mode 0700, its parent must exist) if it is missing, and replaces the
// record whole: written beside, synced, renamed over, so a crash leaves the old or the new.
Status write_owner_record(const std::string& state_dir, const policy::SliceOwners& owners);

}  // namespace netd::daemon
