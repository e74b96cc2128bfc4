#include "netd/kernel/tun/tun_device.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>

#include <cstring>

#include "lib/core/net_types.h"

namespace netd::kernel {
namespace {

constexpr const char* kCloneDevice = "/dev/net/tun";

Result<UniqueFd> open_and_set(const std::string& name, short flags, const std::string& what) {
  if (Status st = check_ifname(name); !st.ok()) return std::move(st).error().with_context(what);
  UniqueFd fd(::open(kCloneDevice, O_RDWR | O_CLOEXEC));
  if (!fd.valid()) return errno_error(what + ": opening " + kCloneDevice);
  struct ifreq ifr {};
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  ifr.ifr_flags = flags;
  if (::ioctl(fd.get(), TUNSETIFF, &ifr) < 0) return errno_error(what + ": TUNSETIFF");
  return fd;
}

short base_flags(bool tap, bool multi_queue, TunFormat format) {
  short flags = tap ? IFF_TAP : IFF_TUN;
  if (!format.packet_info) flags |= IFF_NO_PI;
  if (format.vnet_hdr) flags |= IFF_VNET_HDR;
  if (multi_queue) flags |= IFF_MULTI_QUEUE;
  return flags;
}

}  // namespace

Result<UniqueFd> create_tun_device(const TunCreate& spec) {
  const std::string what = "creating " + std::string(spec.tap ? "tap" : "tun") + " device " + spec.name;
  NETD_ASSIGN_OR_RETURN(UniqueFd fd, open_and_set(spec.name, base_flags(spec.tap, spec.multi_queue, spec.format) | IFF_TUN_EXCL, what));
  if (::ioctl(fd.get(), TUNSETOWNER, static_cast<unsigned long>(spec.owner)) < 0)
    return errno_error(what + ": TUNSETOWNER");
  if (spec.group && ::ioctl(fd.get(), TUNSETGROUP, static_cast<unsigned long>(*spec.group)) < 0)
    return errno_error(what + ": TUNSETGROUP");
  return fd;
}

Status set_tun_persist(int fd, const std::string& name, bool persist) {
  if (::ioctl(fd, TUNSETPERSIST, persist ? 1UL : 0UL) < 0)
    return errno_error(std::string(persist ? "making " : "unmaking ") + name + " persistent: TUNSETPERSIST");
  return ok_status();
}

Result<UniqueFd> attach_tun_device(const std::string& name, bool tap, bool multi_queue, TunFormat format) {
  return open_and_set(name, base_flags(tap, multi_queue, format), "attaching to " + name);
}

}  // namespace netd::kernel
