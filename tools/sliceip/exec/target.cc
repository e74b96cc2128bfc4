#include "tools/sliceip/exec/target.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <optional>
#include <string>

namespace sliceip::exec {

namespace {

// 6.9: a pidfd for any thread, not only a thread-group leader (the notification names the
// calling thread). Debian 12's headers predate it.
#ifndef PIDFD_THREAD
constexpr unsigned kPidfdThread = O_EXCL;
#else
constexpr unsigned kPidfdThread = PIDFD_THREAD;
#endif

netd::Status transfer_result(ssize_t n, size_t len, const char* what) {
  if (n < 0) return netd::errno_error(what);
  if (static_cast<size_t>(n) != len) return netd::make_error(EFAULT, std::string(what) + ": short transfer");
  return netd::ok_status();
}

struct NetnsId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool known = false;
};

NetnsId netns_of(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return {};
  return {st.st_dev, st.st_ino, true};
}

// SO_NETNS_COOKIE (5.14): the socket's netns without CAP_NET_ADMIN (SIOCGSKNS needs it).
std::optional<uint64_t> netns_cookie(int socket_fd) {
  uint64_t cookie = 0;
  socklen_t len = sizeof cookie;
  if (getsockopt(socket_fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0 || len != sizeof cookie)
    return std::nullopt;
  return cookie;
}

const NetnsId& own_netns() {
  // The supervisor never changes namespace: its own is read once.
  static const NetnsId mine = netns_of("/proc/self/ns/net");
  return mine;
}

}  // namespace

netd::Result<Target> Target::open(pid_t tid) {
  netd::UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, tid, kPidfdThread)));
  if (!pidfd.valid()) return netd::errno_error("pidfd_open(" + std::to_string(tid) + ")");
  return Target(tid, std::move(pidfd));
}

netd::Result<netd::UniqueFd> Target::copy_fd(int fd) const {
  netd::UniqueFd copy(static_cast<int>(syscall(SYS_pidfd_getfd, pidfd_.get(), fd, 0)));
  if (!copy.valid()) return netd::errno_error("pidfd_getfd(fd " + std::to_string(fd) + ")");
  return copy;
}

netd::Status Target::read(uint64_t addr, void* out, size_t len) const {
  iovec local{out, len};
  iovec remote{reinterpret_cast<void*>(addr), len};
  return transfer_result(process_vm_readv(tid_, &local, 1, &remote, 1, 0), len, "process_vm_readv");
}

netd::Status Target::write(uint64_t addr, const void* in, size_t len) const {
  iovec local{const_cast<void*>(in), len};
  iovec remote{reinterpret_cast<void*>(addr), len};
  return transfer_result(process_vm_writev(tid_, &local, 1, &remote, 1, 0), len, "process_vm_writev");
}

bool Target::fd_cloexec(int fd) const {
  std::ifstream info("/proc/" + std::to_string(tid_) + "/fdinfo/" + std::to_string(fd));
  std::string key;
  while (info >> key) {
    if (key == "flags:") {
      unsigned long flags = 0;
      info >> std::oct >> flags;
      return (flags & O_CLOEXEC) != 0;
    }
  }
  return false;
}

bool socket_in_own_netns(int socket_fd) {
  // The supervisor's netns, by a socket of its own made once.
  static const std::optional<uint64_t> mine = [] {
    netd::UniqueFd own(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    return own.valid() ? netns_cookie(own.get()) : std::nullopt;
  }();
  const std::optional<uint64_t> theirs = netns_cookie(socket_fd);
  return mine && theirs && *mine == *theirs;
}

bool same_netns(pid_t tid) {
  const NetnsId& mine = own_netns();
  NetnsId theirs = netns_of("/proc/" + std::to_string(tid) + "/ns/net");
  if (!mine.known || !theirs.known) return true;
  return mine.dev == theirs.dev && mine.ino == theirs.ino;
}

}  // namespace sliceip::exec
