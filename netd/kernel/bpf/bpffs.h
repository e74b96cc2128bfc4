// bpffs paths: where netd's pins live and checks that a path really is on bpffs (a pin on
// any other filesystem is impossible, and a plain directory there would silently lose the
// "outlives netd" property).
#pragma once

#include <string>

#include "lib/core/result.h"
#include "lib/core/unique_fd.h"

namespace netd::kernel {

Result<bool> is_on_bpffs(const std::string& path);

// systemd mounts bpffs on /sys/fs/bpf at boot; hosts without it (minimal VMs, containers) get it
// mounted here, as systemd would, so the pins can outlive netd. Nothing to do for a `bpffs_dir`
// elsewhere, or when /sys/fs/bpf is bpffs already.
Status ensure_sys_fs_bpf_mounted(const std::string& bpffs_dir);

// `dir` exists on bpffs afterwards: created (mode 0700) if missing, in which case its parent
// must be on bpffs. Returns whether it was created.
Result<bool> ensure_bpffs_dir(const std::string& dir);

// bpf_obj_get() of a pin: an invalid UniqueFd (not an error) if nothing is pinned there.
Result<UniqueFd> open_pin(const std::string& path);

// unlink() of a pin; a missing pin is fine.
Status remove_pin(const std::string& path);

// After a part of netd removed its pins: rmdir <bpffs_dir>/<subdir>, then bpffs_dir itself
// unless another part's pins are still beside it. Missing directories are fine.
Status remove_pin_dirs(const std::string& bpffs_dir, const std::string& subdir);

}  // namespace netd::kernel
