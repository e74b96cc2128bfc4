// TUN/TAP devices through /dev/net/tun: creating one (TUNSETIFF with IFF_TUN_EXCL, so an
// existing device of that name is never taken over), setting its owner, and attaching
// another fd (queue) to an existing one. The device lives in the network namespace of the
// calling thread. The fds returned are what netd hands to slices (O_RDWR, close-on-exec, in
// the TunFormat asked: by default IFF_NO_PI, packets/frames without the 4-byte
// packet-information header).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "lib/core/result.h"
#include "lib/core/unique_fd.h"
#include "netd/kernel/tun/tun_control.h"

namespace netd::kernel {

// Creates the device, not persistent (it vanishes when the returned fd, and every copy, is
// closed): callers configure it and call set_persist() last, so any failure in between
// leaves nothing behind.
Result<UniqueFd> create_tun_device(const TunCreate& spec);

// TUNSETPERSIST on an fd attached to the device.
Status set_tun_persist(int fd, const std::string& name, bool persist);

// A new fd attached to the existing device `name` (for a multi-queue device: one more queue).
// `tap` and `multi_queue` must match how the device was made (EINVAL otherwise); a device
// that is not multi-queue and already has an fd attached is busy (EBUSY). The kernel gives a
// queue joining a multi-queue device that has others the format they have, whatever was asked
// (the device's IFLA_TUN_PI / IFLA_TUN_VNET_HDR say which).
Result<UniqueFd> attach_tun_device(const std::string& name, bool tap, bool multi_queue, TunFormat format);

// The kernel's TunControl: the functions above.
class TunDevices : public TunControl {
 public:
  Result<UniqueFd> create(const TunCreate& spec) override { return create_tun_device(spec); }
  Status set_persist(int fd, const std::string& name, bool persist) override {
    return set_tun_persist(fd, name, persist);
  }
  Result<UniqueFd> attach(const std::string& name, bool tap, bool multi_queue, TunFormat format) override {
    return attach_tun_device(name, tap, multi_queue, format);
  }
};

}  // namespace netd::kernel
