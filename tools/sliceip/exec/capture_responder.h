// Answers a monitor's trapped bind(fd, sockaddr_ll) (see capture_answer.h): asks netd for a
// capture socket on the device, binds it as the program asked and puts it in place of the
// program's fd (same number, O_NONBLOCK and close-on-exec kept), so the program's later calls
// (libpcap's ring, membership, version) work on the capture socket.
#pragma once

#include <sys/types.h>

#include <set>

#include "tools/sliceip/exec/call_router.h"
#include "tools/sliceip/exec/netd_link.h"
#include "tools/sliceip/exec/refusal_log.h"

namespace sliceip::exec {

class CaptureResponder : public CallResponder {
 public:
  CaptureResponder(NetdLink& netd, RefusalLog& refusals) : netd_(netd), refusals_(refusals) {}

  void answer(Listener& listener, const seccomp_notif& request) override;

 private:
  NetdLink& netd_;
  RefusalLog& refusals_;
  // Inodes of the capture sockets installed so far: their later binds are the kernel's.
  std::set<ino_t> swapped_;
};

}  // namespace sliceip::exec
