#include "tools/sliceip/exec/socket_responder.h"

#include <arpa/inet.h>
#include <fcntl.h>

#include <cerrno>

#include "lib/client/sockets.h"
#include "tools/sliceip/exec/target.h"

namespace sliceip::exec {

void SocketResponder::refuse(Listener& listener, uint64_t id, const SocketCall& call, int err,
                             const std::string& reason) {
  listener.reply_error(id, err);
  refusals_.report(describe_socket_call(call), reason);
}

void SocketResponder::answer(Listener& listener, const seccomp_notif& request) {
  SocketCall call;
  call.domain = static_cast<int>(request.data.args[0]);
  call.type = static_cast<int>(request.data.args[1]);
  call.protocol = static_cast<int>(request.data.args[2]);
  // No SECCOMP_IOCTL_NOTIF_ID_VALID after reading the caller's netns by pid: if the caller died
  // and its pid went to another process, whatever is decided from that process's netns ends in
  // a reply to the dead call's id, which the kernel refuses (ENOENT) without touching anyone;
  // netd's socket, if one was asked for, is closed here. The check would cost every call a
  // system call for that rare wasted request.
  call.same_netns = same_netns(static_cast<pid_t>(request.pid));
  SocketAnswer answer = answer_socket(call);
  switch (answer.kind) {
    case SocketAnswer::Kind::kContinue:
      listener.reply_continue(request.id);
      return;
    case SocketAnswer::Kind::kErrno:
      refuse(listener, request.id, call, answer.error, answer.reason);
      return;
    case SocketAnswer::Kind::kRaw:
    case SocketAnswer::Kind::kPacket:
      break;
  }
  auto socket = netd_.ask([&](netd::Client& client) {
    if (answer.kind == SocketAnswer::Kind::kRaw) return netd::raw_socket(client, answer.domain, answer.protocol);
    return netd::packet_socket(client, htons(static_cast<uint16_t>(answer.protocol)), "");
  });
  if (!socket.ok()) {
    refuse(listener, request.id, call, refusal_errno(socket.error()), refusal_reason(socket.error()));
    return;
  }
  // The file description is shared with the program's fd: O_NONBLOCK set here shows there.
  if (answer.nonblock) {
    int flags = fcntl(socket->get(), F_GETFL);
    if (flags < 0 || fcntl(socket->get(), F_SETFL, flags | O_NONBLOCK) < 0) {
      refuse(listener, request.id, call, errno, "setting O_NONBLOCK on netd's socket failed");
      return;
    }
  }
  auto added = listener.add_fd_and_return(request.id, socket->get(), answer.cloexec);
  // ENOENT: the program is gone or the call was interrupted; otherwise (EMFILE) the call fails.
  if (!added.ok() && added.error().code != ENOENT) listener.reply_error(request.id, added.error().code);
  // The supervisor's copy closes here whatever happened.
}

}  // namespace sliceip::exec
