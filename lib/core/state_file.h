// Files netd keeps under state_dir (the slice-ids record, the last good fleet policy): read
// whole with a size cap, replaced whole so a crash or power loss leaves the old file or the
// new one, never a mix. No logging, no interpretation of the contents.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "lib/core/result.h"

namespace netd {

// Creates `dir` with mode 0700 if it is missing (its parent must exist): state may name slices
// and their members, which is nobody else's business.
Status make_private_dir(const std::string& dir);

// The whole file, or nullopt when it does not exist. A symlink is refused (ELOOP): state_dir is
// root's, and a link there is not something netd wrote. EFBIG beyond `max_bytes`.
Result<std::optional<std::string>> read_state_file(const std::string& path, size_t max_bytes);

// Writes `text` to "<path>.new" (created with `mode`), syncs it, renames it over `path` and
// syncs the directory, so that the rename itself survives a power loss. On failure `path` is
// as it was and no "<path>.new" is left behind.
Status replace_state_file(const std::string& path, std::string_view text, mode_t mode = 0600);

// Appends `text` to `path` (created with `mode` if missing; a symlink is refused) and syncs
// it. On failure the file is cut back to its old length, so the next append never continues a
// torn line. (A crash mid-append can still leave one at the end: readers drop a last line
// without its newline.)
Status append_state_file(const std::string& path, std::string_view text, mode_t mode = 0600);

// Deletes `path`; one that does not exist is fine.
Status remove_state_file(const std::string& path);

}  // namespace netd
