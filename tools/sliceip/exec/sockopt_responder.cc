#include "tools/sliceip/exec/sockopt_responder.h"

#include <sys/socket.h>

#include "lib/client/socket_ops.h"
#include "tools/sliceip/exec/sockopt_answer.h"
#include "tools/sliceip/exec/target.h"

namespace sliceip::exec {

namespace {

// Whether the socket's filter is locked; false for anything that is no socket (the kernel then
// answers ENOTSOCK or EBADF itself).
bool filter_locked(int fd) {
  int locked = 0;
  socklen_t len = sizeof locked;
  return getsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &locked, &len) == 0 && locked != 0;
}

}  // namespace

void SockoptResponder::answer(Listener& listener, const seccomp_notif& request) {
  const int fd = static_cast<int>(request.data.args[0]);
  const int level = static_cast<int>(request.data.args[1]);
  const int optname = static_cast<int>(request.data.args[2]);
  const uint64_t optval = request.data.args[3];
  const uint64_t optlen = static_cast<uint32_t>(request.data.args[4]);
  SockoptKind kind = classify_sockopt(level, optname);
  // Anything the supervisor cannot read (the program gone, a bad fd or address) goes on to the
  // kernel, which gives the program its own error.
  auto target = Target::open(static_cast<pid_t>(request.pid));
  if (kind == SockoptKind::kOther || !target.ok()) {
    listener.reply_continue(request.id);
    return;
  }
  auto socket = target->copy_fd(fd);
  if (!socket.ok()) {
    listener.reply_continue(request.id);
    return;
  }
  if (kind != SockoptKind::kForcedBuffer) {
    int err = filter_call_errno(kind, filter_locked(socket->get()), optlen);
    if (!listener.id_valid(request.id)) return;  // the fd read may be another thread's now
    if (err == 0)
      listener.reply_continue(request.id);
    else
      listener.reply_error(request.id, err);
    return;
  }
  int value = 0;
  if (!forced_buffer_value_readable(optlen) || !target->read(optval, &value, sizeof value).ok()) {
    listener.reply_continue(request.id);
    return;
  }
  if (!listener.id_valid(request.id)) return;
  auto set = netd_.ask([&](netd::Client& client) { return netd::set_socket_option(client, socket->get(), optname, value); });
  if (!set.ok()) {
    listener.reply_error(request.id, refusal_errno(set.error()));
    refusals_.report(describe_sockopt_call(optname, value), refusal_reason(set.error()));
    return;
  }
  listener.reply_value(request.id, 0);
}

}  // namespace sliceip::exec
