// Sends each notification to the responder for its system call; a call nobody answers goes on
// unchanged (the filter traps only what some responder asked for, so that is a safety net).
#pragma once

#include <linux/seccomp.h>

#include <map>

#include "tools/sliceip/exec/listener.h"

namespace sliceip::exec {

class CallResponder {
 public:
  virtual ~CallResponder() = default;
  // Answers exactly once: reply_continue, reply_error or an ADDFD with SEND.
  virtual void answer(Listener& listener, const seccomp_notif& request) = 0;
};

class CallRouter {
 public:
  void route(int syscall_nr, CallResponder& responder) { by_nr_[syscall_nr] = &responder; }
  void answer(Listener& listener, const seccomp_notif& request);

 private:
  std::map<int, CallResponder*> by_nr_;
};

}  // namespace sliceip::exec
