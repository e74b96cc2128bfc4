// The record of which slice held each id (policy/slice_owners), kept in state_dir so it
// outlives netd: read once at start, written whole then, and after each reload that changes an
// owner either appended to (its journal, a line per changed id) or, once the journal has grown
// to half the record, written whole again.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lib/core/result.h"
#include "netd/policy/slice_owners.h"

namespace netd::daemon {

// The file under state_dir.
std::string owner_record_path(const std::string& state_dir);

// The record's journal beside it.
std::string owner_journal_path(const std::string& state_dir);

// The record with its journal applied. nullopt when there is no record (first start, or state_dir emptied): netd then cannot tell
// a changed owner from an unchanged one and keeps what it finds, as before the record existed.
Result<std::optional<policy::SliceOwners>> read_owner_record(const std::string& state_dir);

// Creates state_dir (mode 0700, its parent must exist) if it is missing, and replaces the
// record whole: written beside, synced, renamed over, so a crash leaves the old or the new;
// then deletes the journal (a crash in between leaves a journal the record already holds:
// applying it again changes nothing).
Status write_owner_record(const std::string& state_dir, const policy::SliceOwners& owners);

// Appends to the journal the owners of `ids` as `owners` (the record as it is now) has them, or
// their absence, and syncs it. On failure the journal is as it was.
Status append_owner_record(const std::string& state_dir, const policy::SliceOwners& owners,
                           const std::vector<uint32_t>& ids);

}  // namespace netd::daemon
