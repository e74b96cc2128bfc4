#include "tools/sliceip/exec/socket_responder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstdio>

#include "lib/client/sockets.h"

namespace sliceip::exec {

bool same_netns(pid_t pid) {
  struct stat mine {}, theirs {};
  if (stat("/proc/self/ns/net", &mine) != 0) return true;
  if (stat(("/proc/" + std::to_string(pid) + "/ns/net").c_str(), &theirs) != 0) return true;
  return mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino;
}

netd::Result<netd::UniqueFd> SocketResponder::ask_netd(const SocketAnswer& answer) {
  auto once = [&]() -> netd::Result<netd::UniqueFd> {
    if (!client_) {
      NETD_ASSIGN_OR_RETURN(netd::Client fresh, netd::Client::connect(netd::Client::socket_path(socket_path_)));
      client_.emplace(std::move(fresh));
    }
    if (answer.kind == SocketAnswer::Kind::kRaw) return netd::raw_socket(*client_, answer.domain, answer.protocol);
    return netd::packet_socket(*client_, htons(static_cast<uint16_t>(answer.protocol)), "");
  };
  auto socket = once();
  if (socket.ok() || is_netd_refusal(socket.error())) return socket;
  // The connection broke (netd restarted): one fresh connection, one more try.
  client_.reset();
  return once();
}

void SocketResponder::refuse(Listener& listener, uint64_t id, const SocketCall& call, int err,
                             const std::string& reason) {
  listener.reply_error(id, err);
  std::string line = refusals_.note(describe_socket_call(call), reason);
  if (!line.empty()) std::fprintf(stderr, "%s\n", line.c_str());
}

void SocketResponder::answer(Listener& listener, const seccomp_notif& request) {
  if (request.data.nr != SYS_socket) {
    listener.reply_continue(request.id);
    return;
  }
  SocketCall call;
  call.domain = static_cast<int>(request.data.args[0]);
  call.type = static_cast<int>(request.data.args[1]);
  call.protocol = static_cast<int>(request.data.args[2]);
  call.same_netns = same_netns(static_cast<pid_t>(request.pid));
  // The pid read above must still be the caller's.
  if (!listener.id_valid(request.id)) return;
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
  auto socket = ask_netd(answer);
  if (!socket.ok()) {
    std::string reason = refusal_reason(socket.error());
    if (!is_netd_refusal(socket.error())) reason = "netd unreachable: " + reason;
    refuse(listener, request.id, call, refusal_errno(socket.error()), reason);
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
