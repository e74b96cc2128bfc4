// Answers trapped open("/dev/net/tun") with a placeholder and TUNSETIFF on a placeholder with a
// device fd from io.netd.Vifs, put where the placeholder was, and SIOCSIFMTU of the slice's own
// devices through io.netd.Vifs.SetLink (tun_answer.h says what and why).
// Every other trapped open() and ioctl() goes on to the kernel unchanged.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <set>
#include <utility>
#include <vector>

#include "tools/sliceip/exec/call_router.h"
#include "tools/sliceip/exec/netd_link.h"
#include "tools/sliceip/exec/refusal_log.h"

namespace sliceip::exec {

// The system calls it answers: openat, open (where it exists) and ioctl.
std::vector<int> tun_syscalls();

class TunResponder : public CallResponder {
 public:
  TunResponder(NetdLink& netd, RefusalLog& refusals) : netd_(netd), refusals_(refusals) {}

  // For openat, open (x86_64) and ioctl.
  void answer(Listener& listener, const seccomp_notif& request) override;

 private:
  using Inode = std::pair<dev_t, ino_t>;

  void answer_open(Listener& listener, const seccomp_notif& request, uint64_t path, uint64_t flags);
  void answer_set_iff(Listener& listener, const seccomp_notif& request);
  void answer_set_mtu(Listener& listener, const seccomp_notif& request);
  void remember(Inode inode);
  void forget(Inode inode);

  NetdLink& netd_;
  RefusalLog& refusals_;
  // The placeholders handed out and not yet swapped (oldest first, bounded: a program that
  // opens and closes without TUNSETIFF must not grow the supervisor).
  std::set<Inode> placeholders_;
  std::deque<Inode> order_;
};

}  // namespace sliceip::exec
