#include "tools/sliceip/exec/listener.h"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

namespace sliceip::exec {

Listener::Listener(netd::UniqueFd fd) : fd_(std::move(fd)) {
  // A trapped call is a hand-over: the program waits while the supervisor answers. Waking the
  // other side on this CPU spares a cross-CPU wake-up (an IPI, a VM exit under a hypervisor)
  // each way. Kernels before 6.6 refuse the flag (EINVAL), and the wake-ups stay ordinary.
  if (fd_.valid()) (void)ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
}

netd::Result<std::optional<seccomp_notif>> Listener::receive() {
  seccomp_notif request;
  for (;;) {
    std::memset(&request, 0, sizeof request);  // the kernel insists on a zeroed buffer
    if (ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_RECV, &request) == 0) return std::optional(request);
    if (errno == EINTR) continue;
    if (errno == ENOENT) return std::optional<seccomp_notif>();
    return netd::errno_error("SECCOMP_IOCTL_NOTIF_RECV");
  }
}

bool Listener::id_valid(uint64_t id) const {
  return ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

void Listener::reply_continue(uint64_t id) {
  seccomp_notif_resp response{};
  response.id = id;
  response.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  (void)ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_SEND, &response);  // ENOENT: the target is gone
}

void Listener::reply_value(uint64_t id, int64_t value) {
  seccomp_notif_resp response{};
  response.id = id;
  response.val = value;
  (void)ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_SEND, &response);
}

void Listener::reply_error(uint64_t id, int err) {
  seccomp_notif_resp response{};
  response.id = id;
  response.error = -err;
  (void)ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_SEND, &response);
}

netd::Status Listener::add_fd_and_return(uint64_t id, int srcfd, bool cloexec) {
  seccomp_notif_addfd add{};
  add.id = id;
  add.flags = SECCOMP_ADDFD_FLAG_SEND;
  add.srcfd = static_cast<uint32_t>(srcfd);
  add.newfd_flags = cloexec ? O_CLOEXEC : 0;
  if (ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_ADDFD, &add) < 0) return netd::errno_error("SECCOMP_IOCTL_NOTIF_ADDFD");
  return netd::ok_status();
}

netd::Status Listener::replace_fd(uint64_t id, int srcfd, int newfd, bool cloexec) {
  seccomp_notif_addfd add{};
  add.id = id;
  add.flags = SECCOMP_ADDFD_FLAG_SETFD;
  add.srcfd = static_cast<uint32_t>(srcfd);
  add.newfd = static_cast<uint32_t>(newfd);
  add.newfd_flags = cloexec ? O_CLOEXEC : 0;
  if (ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_ADDFD, &add) < 0) return netd::errno_error("SECCOMP_IOCTL_NOTIF_ADDFD(SETFD)");
  return netd::ok_status();
}

}  // namespace sliceip::exec
