// The hand-over of `vtuntap run` and `vtuntap attach NAME -- CMD`: the device fd becomes the
// program's fd 3, its name VTUNTAP_IFNAME, and vtuntap becomes the program.
#pragma once

#include <string>
#include <vector>

#include "lib/core/result.h"
#include "lib/core/unique_fd.h"

namespace vtuntap {

// The fd number a program started by vtuntap finds its device on (as systemd's socket
// activation starts at 3: the first after stdin, stdout, stderr).
inline constexpr int kDeviceFd = 3;
inline constexpr const char* kIfnameVariable = "VTUNTAP_IFNAME";

// Puts `device` on fd 3 without close-on-exec (closing its original number), sets
// VTUNTAP_IFNAME=ifname and execvp()s argv. Returns only if that failed, with the reason
// ("cannot run 'x': No such file or directory"); the caller exits 127 as a shell would.
// Every other fd vtuntap got from netd must be close-on-exec or closed before this.
[[nodiscard]] netd::Error exec_with_device(netd::UniqueFd device, const std::string& ifname,
                                           const std::vector<std::string>& argv);

}  // namespace vtuntap
