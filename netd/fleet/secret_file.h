// [netd] etcd_password_file: the etcd password, read from a file only netd's user may read, so
// that it is never in the policy file (readable by more people than a secret should be).
#pragma once

#include <string>

#include "lib/core/result.h"

namespace netd::fleet {

// The file's first line (without its newline). Refused (EPERM) when the file belongs to another
// user than netd's or group or others may read or write it; EINVAL when it is not a regular
// file, is empty or is larger than a password is (4 KiB). A symlink is followed: the checks
// are on the file itself.
Result<std::string> read_password_file(const std::string& path);

}  // namespace netd::fleet
