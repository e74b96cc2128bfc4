#include "tools/vtuntap/exec.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace vtuntap {

namespace {

// fd 3 = the device, inheritable. dup2() gives the copy no FD_CLOEXEC; if the device already
// is fd 3 (it was received with MSG_CMSG_CLOEXEC), the flag is cleared instead.
netd::Status put_on_device_fd(netd::UniqueFd device) {
  if (!device.valid()) return netd::make_error(EBADF, "no device fd to hand over");
  if (device.get() == kDeviceFd) {
    int flags = fcntl(kDeviceFd, F_GETFD);
    if (flags < 0 || fcntl(kDeviceFd, F_SETFD, flags & ~FD_CLOEXEC) < 0)
      return netd::errno_error("making fd 3 inheritable");
    device.release();  // it is fd 3 now, for the program
    return netd::ok_status();
  }
  if (dup2(device.get(), kDeviceFd) < 0) return netd::errno_error("moving the device to fd 3");
  return netd::ok_status();  // `device` closes the original number
}

}  // namespace

netd::Error exec_with_device(netd::UniqueFd device, const std::string& ifname,
                             const std::vector<std::string>& argv) {
  if (argv.empty()) return netd::make_error(EINVAL, "no program to run");
  auto moved = put_on_device_fd(std::move(device));
  if (!moved.ok()) return std::move(moved).error();
  if (setenv(kIfnameVariable, ifname.c_str(), 1) < 0)
    return netd::errno_error(std::string("setting ") + kIfnameVariable);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  return netd::errno_error("cannot run '" + argv[0] + "'");
}

}  // namespace vtuntap
