// Answers trapped socket() calls: asks netd for the slice's socket and installs it in the
// program, or fails the call with the errno it had before plus one line on stderr.
#pragma once

#include "tools/sliceip/exec/call_router.h"
#include "tools/sliceip/exec/netd_link.h"
#include "tools/sliceip/exec/refusal_log.h"
#include "tools/sliceip/exec/socket_answer.h"

namespace sliceip::exec {

class SocketResponder : public CallResponder {
 public:
  SocketResponder(NetdLink& netd, RefusalLog& refusals) : netd_(netd), refusals_(refusals) {}

  void answer(Listener& listener, const seccomp_notif& request) override;

 private:
  void refuse(Listener& listener, uint64_t id, const SocketCall& call, int err, const std::string& reason);

  NetdLink& netd_;
  RefusalLog& refusals_;
};

}  // namespace sliceip::exec
