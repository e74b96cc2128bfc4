// systemd's notify protocol (Type=notify): netd says READY=1 once it listens with the kernel in
// line with the policy, RELOADING=1 ... READY=1 around a SIGHUP reload, STOPPING=1 when asked to
// stop. Without $NOTIFY_SOCKET (not started by systemd) these do nothing.
#pragma once

#include <string>

namespace netd::daemon {

void notify_ready(const std::string& status);
void notify_reloading();
void notify_stopping();

}  // namespace netd::daemon
