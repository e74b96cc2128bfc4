// CgroupPlacement: whether netd itself runs inside the cgroup its socket programs are attached
// at (the policy's [netd] cgroup). The raw sockets netd makes and hands to slices belong to
// netd's cgroup; outside the configured one they skip its programs: the flow recorder never
// learns their flows (answers do not reach the slice) and their egress is not fenced.
// The decisions are pure functions over the text of /proc/self/cgroup and
// /proc/self/mountinfo; own_cgroup_placement() reads them.
#pragma once

#include <string>
#include <string_view>

#include "lib/core/result.h"

namespace netd::kernel {

// A cgroup path in the v2 hierarchy ("/a/b"): "//" collapsed, "." dropped, ".." resolved
// lexically (never above "/"), no trailing "/"; "" and "/" give "/".
std::string normalize_cgroup_path(std::string_view path);

// Whether `path` is `ancestor` or below it, both in the v2 hierarchy. "/" contains every
// cgroup; "/a/bc" is not inside "/a/b" (components, not string prefixes).
bool cgroup_contains(std::string_view ancestor, std::string_view path);

// The v2 line ("0::/path") of a /proc/<pid>/cgroup text, normalized. ENOENT when there is
// none (a host with cgroup v1 only).
Result<std::string> parse_v2_cgroup(std::string_view proc_cgroup);

// The cgroup v2 hierarchy path of the directory `fs_path` (absolute, e.g.
// "/sys/fs/cgroup/unified/netd"), from a /proc/<pid>/mountinfo text: the cgroup2 mount with the
// longest mount point containing it, plus that mount's root. ENOENT when no cgroup2 mount holds it.
Result<std::string> cgroup_of_fs_path(std::string_view mountinfo, std::string_view fs_path);

struct CgroupPlacement {
  std::string configured_dir;  // the policy's cgroup, as written (a directory path)
  std::string configured;      // ... in the v2 hierarchy ("/" for the root)
  std::string own;             // netd's cgroup in the v2 hierarchy
  bool inside = false;         // own is configured or below it
};

// Pure: placement from the two /proc texts.
Result<CgroupPlacement> cgroup_placement(std::string_view proc_cgroup, std::string_view mountinfo,
                                         const std::string& configured_dir);

// The line netd logs when it runs outside: both paths and what breaks.
std::string outside_cgroup_warning(const CgroupPlacement& p);

// Reads /proc/self/cgroup and /proc/self/mountinfo.
Result<CgroupPlacement> own_cgroup_placement(const std::string& configured_dir);

}  // namespace netd::kernel
