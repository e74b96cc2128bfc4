#include "netd/daemon/notify.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstdint>

namespace netd::daemon {

void notify_ready(const std::string& status) { (void)sd_notifyf(0, "READY=1\nSTATUS=%s", status.c_str()); }

void notify_reloading() {
  // MONOTONIC_USEC lets systemd (Type=notify-reload, v253+) match this to the SIGHUP it sent.
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t usec = static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
  (void)sd_notifyf(0, "RELOADING=1\nSTATUS=reloading the policy\nMONOTONIC_USEC=%llu",
                   static_cast<unsigned long long>(usec));
}

void notify_stopping() { (void)sd_notify(0, "STOPPING=1\nSTATUS=stopping"); }

}  // namespace netd::daemon
