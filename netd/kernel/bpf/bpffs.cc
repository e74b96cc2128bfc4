#include "netd/kernel/bpf/bpffs.h"

#include <bpf/bpf.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

namespace netd::kernel {

Result<bool> is_on_bpffs(const std::string& path) {
  struct statfs st;
  if (::statfs(path.c_str(), &st) != 0) return errno_error("statfs " + path);
  return st.f_type == BPF_FS_MAGIC;
}

Status ensure_sys_fs_bpf_mounted(const std::string& bpffs_dir) {
  const std::string root = "/sys/fs/bpf";
  if (bpffs_dir.rfind(root + "/", 0) != 0) return ok_status();
  struct statfs st{};
  if (statfs(root.c_str(), &st) == 0 && st.f_type == BPF_FS_MAGIC) return ok_status();
  if (mount("bpf", root.c_str(), "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0)
    return errno_error("mounting bpffs on " + root);
  return ok_status();
}

Result<bool> ensure_bpffs_dir(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return make_error(ENOTDIR, dir + " exists and is not a directory");
    NETD_ASSIGN_OR_RETURN(bool on_bpffs, is_on_bpffs(dir));
    if (!on_bpffs) return make_error(EINVAL, dir + " is not on bpffs (mount -t bpf bpf /sys/fs/bpf)");
    return false;
  }
  if (errno != ENOENT) return errno_error("stat " + dir);
  size_t slash = dir.find_last_of('/');
  if (slash == std::string::npos) return make_error(EINVAL, "bpffs directory " + dir + " is not an absolute path");
  std::string parent = slash == 0 ? std::string(1, '/') : dir.substr(0, slash);
  NETD_ASSIGN_OR_RETURN(bool parent_on_bpffs, is_on_bpffs(parent));
  if (!parent_on_bpffs)
    return make_error(EINVAL, "cannot create " + dir + ": " + parent + " is not on bpffs (mount -t bpf bpf /sys/fs/bpf)");
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) return false;  // made concurrently
    return errno_error("mkdir " + dir);
  }
  return true;
}

Result<UniqueFd> open_pin(const std::string& path) {
  int fd = bpf_obj_get(path.c_str());
  if (fd >= 0) return UniqueFd(fd);
  if (errno == ENOENT) return UniqueFd();
  return errno_error("opening pin " + path);
}

Status remove_pin(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return errno_error("unlink pin " + path);
  return ok_status();
}

Status remove_pin_dirs(const std::string& bpffs_dir, const std::string& subdir) {
  const std::string dir = bpffs_dir + "/" + subdir;
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) return errno_error("rmdir " + dir);
  if (::rmdir(bpffs_dir.c_str()) != 0 && errno != ENOENT && errno != ENOTEMPTY)
    return errno_error("rmdir " + bpffs_dir);
  return ok_status();
}

}  // namespace netd::kernel
