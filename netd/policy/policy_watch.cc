#include "netd/policy/policy_watch.h"

#include <sys/inotify.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace netd::policy {
namespace {

constexpr uint32_t kDirEvents = IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVED_FROM |
                                IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
constexpr const char* kDropInDir = "policy.d";

// Filesystems whose files can change without an event here (another host, a FUSE daemon).
bool remote_filesystem(long type) {
  switch (static_cast<uint32_t>(type)) {
    case 0x6969:      // NFS
    case 0x517B:      // SMB
    case 0xFE534D42:  // SMB2
    case 0xFF534D42:  // CIFS
    case 0x65735546:  // FUSE
    case 0x00C36400:  // Ceph
    case 0x01021997:  // 9P (v9fs)
    case 0x47504653:  // GPFS
    case 0x0BD00BD0:  // Lustre
      return true;
    default:
      return false;
  }
}

Result<int> add_watch(int fd, const std::string& dir) {
  struct statfs fs {};
  if (::statfs(dir.c_str(), &fs) != 0) return errno_error("watching " + dir);
  if (remote_filesystem(fs.f_type))
    return make_error(EOPNOTSUPP, "watching " + dir + ": a network or FUSE filesystem raises no event for others' changes");
  int wd = ::inotify_add_watch(fd, dir.c_str(), kDirEvents);
  if (wd < 0) return errno_error("watching " + dir);
  return wd;
}

}  // namespace

Result<PolicyWatch> PolicyWatch::open(const std::string& main_path) {
  auto slash = main_path.rfind('/');
  std::string dir = slash == std::string::npos ? std::string(".") : (slash == 0 ? std::string("/") : main_path.substr(0, slash));
  std::string name = slash == std::string::npos ? main_path : main_path.substr(slash + 1);
  UniqueFd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!fd.valid()) return errno_error("inotify_init1");
  NETD_ASSIGN_OR_RETURN(int dir_watch, add_watch(fd.get(), dir));
  int drop_in_watch = -1;
  std::string drop_ins = (dir == "/" ? "" : dir) + "/" + kDropInDir;
  auto watched = add_watch(fd.get(), drop_ins);
  if (watched.ok()) {
    drop_in_watch = *watched;
  } else if (watched.error().code != ENOENT && watched.error().code != ENOTDIR) {
    return std::move(watched).error();  // no policy.d is fine: its creation is an event in dir
  }
  return PolicyWatch(std::move(fd), std::move(name), dir_watch, drop_in_watch);
}

Result<PolicyWatch::Changes> PolicyWatch::take() {
  Changes changes;
  alignas(inotify_event) char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n < 0) return errno_error("reading policy file events");
    if (n == 0) break;
    for (char* p = buf; p < buf + n;) {
      const auto* e = reinterpret_cast<const inotify_event*>(p);
      p += sizeof(inotify_event) + e->len;
      if ((e->mask & (IN_Q_OVERFLOW | IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) != 0) {
        changes.everything = true;
        continue;
      }
      if (e->len == 0) continue;
      std::string name(e->name);  // NUL-padded to e->len
      if (e->wd == dir_watch_) {
        if (name == kDropInDir) changes.everything = true;  // created, deleted or moved: watch it anew
        if (name == main_name_) changes.main_file = true;
      } else if (e->wd == drop_in_watch_) {
        changes.drop_ins.insert(std::move(name));
      }
    }
  }
  return changes;
}

}  // namespace netd::policy
