#include "tools/sliceip/exec/tun_responder.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <optional>
#include <string>

#include "lib/client/client.h"
#include "lib/client/vifs.h"
#include "tools/sliceip/exec/target.h"
#include "tools/sliceip/exec/tun_answer.h"

namespace sliceip::exec {

namespace {

// Enough for any program that opens a few devices; beyond it the oldest placeholder is
// forgotten (its TUNSETIFF then goes to the kernel: ENOTTY on a memfd).
constexpr size_t kMaxPlaceholders = 1024;

netd::Result<netd::VifHandle> ask_for_vif(netd::Client& client, const TunAnswer& answer) {
  nlohmann::json params = nlohmann::json::object();
  if (answer.packet_info) params["packet_info"] = true;
  if (answer.vnet_hdr) params["vnet_hdr"] = true;
  if (answer.kind == TunAnswer::Kind::kAttach) {
    params["name"] = answer.name;
    return netd::vif_with_fd(client, "io.netd.Vifs.Attach", params);
  }
  // As TUNSETIFF makes it: gone with its last fd.
  params["kind"] = answer.vif_kind;
  params["persist"] = false;
  if (answer.multi_queue) params["multi_queue"] = true;
  return netd::vif_with_fd(client, "io.netd.Vifs.Add", params);
}

// Whether the path argument at `path` is exactly /dev/net/tun and the thread is in netd's
// network namespace. Cheapest first: most trapped opens are of other files.
// Read by tid without a pidfd (one syscall, not three): if the tid was reused meanwhile, the
// caller's id_valid() check catches it before anything is handed out.
bool opens_tun(pid_t tid, uint64_t path) {
  char bytes[kTunPathReadLength] = {};
  iovec local{bytes, sizeof bytes};
  iovec remote{reinterpret_cast<void*>(path), sizeof bytes};
  return process_vm_readv(tid, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(sizeof bytes) &&
         is_tun_path(std::string_view(bytes, sizeof bytes)) && same_netns(tid);
}

}  // namespace

std::vector<int> tun_syscalls() {
#ifdef SYS_open
  return {SYS_openat, SYS_open, SYS_ioctl};
#else
  return {SYS_openat, SYS_ioctl};
#endif
}

void TunResponder::answer(Listener& listener, const seccomp_notif& request) {
  const auto& args = request.data.args;
  switch (request.data.nr) {
    case SYS_openat:
      answer_open(listener, request, args[1], args[2]);
      return;
#ifdef SYS_open
    case SYS_open:
      answer_open(listener, request, args[0], args[1]);
      return;
#endif
    case SYS_ioctl:
      if (static_cast<uint32_t>(args[1]) == static_cast<uint32_t>(TUNSETIFF)) {
        answer_set_iff(listener, request);
        return;
      }
      if (static_cast<uint32_t>(args[1]) == static_cast<uint32_t>(SIOCSIFMTU)) {
        answer_set_mtu(listener, request);
        return;
      }
      break;
    default:
      break;
  }
  listener.reply_continue(request.id);
}

// Anything that is not exactly an open of /dev/net/tun for reading and writing in netd's netns
// goes on to the kernel, which decides as without sliceip (the supervisor grants nothing there).
void TunResponder::answer_open(Listener& listener, const seccomp_notif& request, uint64_t path, uint64_t flags) {
  const auto tid = static_cast<pid_t>(request.pid);
  if (!is_tun_open_flags(flags) || !opens_tun(tid, path)) {
    listener.reply_continue(request.id);
    return;
  }
  if (!listener.id_valid(request.id)) return;
  netd::UniqueFd placeholder(memfd_create("netd-tun", MFD_CLOEXEC));
  struct stat st {};
  if (!placeholder.valid() || fstat(placeholder.get(), &st) < 0) {
    listener.reply_error(request.id, errno);
    return;
  }
  // The status flags live in the file description, which the program's fd shares.
  if ((flags & O_NONBLOCK) != 0 && fcntl(placeholder.get(), F_SETFL, O_NONBLOCK) < 0) {
    listener.reply_error(request.id, errno);
    return;
  }
  auto added = listener.add_fd_and_return(request.id, placeholder.get(), (flags & O_CLOEXEC) != 0);
  if (added.ok()) {
    remember({st.st_dev, st.st_ino});
  } else if (added.error().code != ENOENT) {
    listener.reply_error(request.id, added.error().code);
  }
}

void TunResponder::answer_set_iff(Listener& listener, const seccomp_notif& request) {
  const auto tid = static_cast<pid_t>(request.pid);
  const int fd = static_cast<int>(request.data.args[0]);
  const uint64_t ifr_address = request.data.args[2];
  auto target = Target::open(tid);
  auto copy = target.ok() ? target->copy_fd(fd) : netd::Result<netd::UniqueFd>(target.error());
  struct stat st {};
  // Not a placeholder (a real tun fd, or anything else): the kernel's answer.
  if (!copy.ok() || fstat(copy->get(), &st) < 0 || placeholders_.count({st.st_dev, st.st_ino}) == 0) {
    listener.reply_continue(request.id);
    return;
  }
  const Inode inode{st.st_dev, st.st_ino};
  ifreq ifr {};
  const bool readable = target->read(ifr_address, &ifr, sizeof ifr).ok();
  const int status_flags = fcntl(copy->get(), F_GETFL);
  const bool cloexec = target->fd_cloexec(fd);
  if (!listener.id_valid(request.id)) return;
  if (!readable) {
    listener.reply_error(request.id, EFAULT);
    return;
  }
  TunAnswer answer = answer_tunsetiff(
      {std::string_view(ifr.ifr_name, IFNAMSIZ), static_cast<uint16_t>(ifr.ifr_flags)});
  auto refuse = [&](int err, const std::string& reason) {
    listener.reply_error(request.id, err);
    refusals_.report(describe_tunsetiff(answer), reason);
  };
  if (answer.kind == TunAnswer::Kind::kRefuse) return refuse(answer.error, answer.reason);
  auto vif = netd_.ask([&](netd::Client& client) { return ask_for_vif(client, answer); });
  if (!vif.ok()) return refuse(refusal_errno(vif.error()), refusal_reason(vif.error()));
  // The kernel's EINVAL for a device of another kind or queue mode.
  if (std::string why = tun_mismatch(answer, {vif->kind, vif->multi_queue, vif->packet_info, vif->vnet_hdr});
      !why.empty())
    return refuse(EINVAL, why);
  if (status_flags >= 0 && (status_flags & O_NONBLOCK) != 0 &&
      fcntl(vif->fd.get(), F_SETFL, fcntl(vif->fd.get(), F_GETFL) | O_NONBLOCK) < 0)
    return refuse(errno, "setting O_NONBLOCK on netd's device fd failed");
  // TUNSETIFF gives the device's name back in ifr_name.
  char name[IFNAMSIZ] = {};
  std::memcpy(name, vif->name.data(), vif->name.size());
  if (!target->write(ifr_address + offsetof(ifreq, ifr_name), name, sizeof name).ok()) {
    listener.reply_error(request.id, EFAULT);
    return;
  }
  // As dup2 onto the placeholder's number. (Another thread closing and reusing that number in
  // the meantime races with its own ioctl, as it would without sliceip.)
  auto replaced = listener.replace_fd(request.id, vif->fd.get(), fd, cloexec);
  if (!replaced.ok()) {
    if (replaced.error().code != ENOENT) listener.reply_error(request.id, replaced.error().code);
    return;
  }
  forget(inode);
  listener.reply_value(request.id, 0);
}

// Only a socket of netd's netns names netd's devices; an unreadable ifreq or an fd that is no
// such socket goes on to the kernel (EFAULT, ENOTTY, EPERM: what the program got before).
void TunResponder::answer_set_mtu(Listener& listener, const seccomp_notif& request) {
  const int fd = static_cast<int>(request.data.args[0]);
  auto target = Target::open(static_cast<pid_t>(request.pid));
  ifreq ifr {};
  if (!target.ok() || !target->read(request.data.args[2], &ifr, sizeof ifr).ok()) {
    listener.reply_continue(request.id);
    return;
  }
  auto socket = target->copy_fd(fd);
  if (!socket.ok() || !socket_in_own_netns(socket->get())) {
    listener.reply_continue(request.id);
    return;
  }
  const SetMtu asked{ifreq_name(std::string_view(ifr.ifr_name, IFNAMSIZ)), ifr.ifr_mtu};
  if (!listener.id_valid(request.id)) return;
  auto changed = netd_.ask([&](netd::Client& client) -> netd::Status {
    NETD_ASSIGN_OR_RETURN(netd::Reply reply,
                          client.call("io.netd.Vifs.SetLink", {{"name", asked.name}, {"mtu", asked.mtu}}));
    if (!reply.ok()) return netd::make_error(reply.error_errno(), reply.error + ": " + reply.reason());
    return netd::ok_status();
  });
  if (!changed.ok()) {
    listener.reply_error(request.id, refusal_errno(changed.error()));
    refusals_.report(describe_set_mtu(asked), refusal_reason(changed.error()));
    return;
  }
  listener.reply_value(request.id, 0);
}

void TunResponder::remember(Inode inode) {
  if (!placeholders_.insert(inode).second) return;
  order_.push_back(inode);
  while (order_.size() > kMaxPlaceholders) {
    placeholders_.erase(order_.front());
    order_.pop_front();
  }
}

void TunResponder::forget(Inode inode) {
  // order_ keeps the entry until it falls off the front; erase() of a forgotten one is a no-op.
  placeholders_.erase(inode);
}

}  // namespace sliceip::exec
