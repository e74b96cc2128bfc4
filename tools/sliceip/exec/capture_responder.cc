#include "tools/sliceip/exec/capture_responder.h"

#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <string>

#include "lib/client/sockets.h"
#include "tools/sliceip/exec/capture_answer.h"
#include "tools/sliceip/exec/target.h"

namespace sliceip::exec {

namespace {

ino_t inode_of(int fd) {
  struct stat st {};
  return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

int socket_domain(int fd) {
  int domain = 0;
  socklen_t len = sizeof domain;
  return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 ? domain : 0;
}

}  // namespace

void CaptureResponder::answer(Listener& listener, const seccomp_notif& request) {
  const int fd = static_cast<int>(request.data.args[0]);
  const uint64_t addr = request.data.args[1];
  // Whatever cannot be read (the program gone, a bad address or fd) goes on to the kernel,
  // which gives the program its own error.
  auto go_on = [&] { listener.reply_continue(request.id); };
  auto target = Target::open(static_cast<pid_t>(request.pid));
  if (!target.ok()) return go_on();
  sockaddr_ll sll{};
  if (!target->read(addr, &sll, sizeof sll).ok()) return go_on();
  auto socket = target->copy_fd(fd);
  if (!socket.ok()) return go_on();
  PacketBindCall call;
  call.family = sll.sll_family;
  call.ifindex = sll.sll_ifindex;
  call.socket_domain = socket_domain(socket->get());
  call.swapped = swapped_.count(inode_of(socket->get())) != 0;
  call.same_netns = same_netns(target->tid());
  char name[IF_NAMESIZE] = {};
  if (!wants_capture(call) || if_indextoname(static_cast<unsigned>(call.ifindex), name) == nullptr) return go_on();
  const bool cloexec = target->fd_cloexec(fd);
  const int status_flags = fcntl(socket->get(), F_GETFL);
  if (!listener.id_valid(request.id)) return;  // what was read may be another thread's now

  auto capture = netd_.ask([&](netd::Client& client) { return netd::capture_socket(client, name); });
  if (!capture.ok()) {
    // Not an uplink (or netd down): the program keeps its slice's socket, bound by the kernel.
    refusals_.report("bind(AF_PACKET, " + std::string(name) + ") as a capture",
                     refusal_reason(capture.error()) + "; the socket stays the slice's own");
    return go_on();
  }
  if (status_flags >= 0 && (status_flags & O_NONBLOCK)) (void)fcntl(capture->get(), F_SETFL, O_RDWR | O_NONBLOCK);
  // The program's own address (its protocol, 0 keeps the capture socket's ETH_P_ALL).
  if (bind(capture->get(), reinterpret_cast<const sockaddr*>(&sll), sizeof sll) < 0) {
    listener.reply_error(request.id, errno);
    return;
  }
  ino_t inode = inode_of(capture->get());
  auto installed = listener.replace_fd(request.id, capture->get(), fd, cloexec);
  if (!installed.ok()) {
    if (installed.error().code != ENOENT) listener.reply_error(request.id, installed.error().code);
    return;
  }
  swapped_.insert(inode);
  listener.reply_value(request.id, 0);
}

}  // namespace sliceip::exec
