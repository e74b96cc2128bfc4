// Answers trapped setsockopt() calls (see sockopt_answer.h for what and why): reads the lock of
// the program's socket on a copy of its fd, and forced buffer sizes from its memory, and asks
// io.netd.SocketOps to set them on that same socket.
#pragma once

#include "tools/sliceip/exec/call_router.h"
#include "tools/sliceip/exec/netd_link.h"
#include "tools/sliceip/exec/refusal_log.h"

namespace sliceip::exec {

class SockoptResponder : public CallResponder {
 public:
  SockoptResponder(NetdLink& netd, RefusalLog& refusals) : netd_(netd), refusals_(refusals) {}

  void answer(Listener& listener, const seccomp_notif& request) override;

 private:
  NetdLink& netd_;
  RefusalLog& refusals_;
};

}  // namespace sliceip::exec
