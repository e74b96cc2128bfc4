#include "tools/sliceip/exec/call_router.h"

namespace sliceip::exec {

void CallRouter::answer(Listener& listener, const seccomp_notif& request) {
  auto it = by_nr_.find(request.data.nr);
  if (it == by_nr_.end()) {
    listener.reply_continue(request.id);
    return;
  }
  it->second->answer(listener, request);
}

}  // namespace sliceip::exec
