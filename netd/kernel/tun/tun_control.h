// TunControl: the /dev/net/tun calls ops makes (create, persist, attach). TunDevices
// (tun_device.h) is the kernel's; unit tests of ops give a fake netns.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "lib/core/result.h"
#include "lib/core/unique_fd.h"

namespace netd::kernel {

// How packets cross an fd: bare (IFF_NO_PI, what netd hands out unless asked), or behind the
// 4-byte packet information header (no IFF_NO_PI) and/or a virtio-net header (IFF_VNET_HDR).
// Programs opening /dev/net/tun themselves choose; wireguard-go 0.0.20220316 wants the packet
// information header. Both are settings of the device that the fd attaching last sets (for a
// multi-queue device: the first queue), so they are asked again with every attach.
struct TunFormat {
  bool packet_info = false;
  bool vnet_hdr = false;
  bool operator==(const TunFormat&) const = default;
};

struct TunCreate {
  std::string name;            // at most 15 characters
  bool tap = false;            // IFF_TAP (Ethernet) or IFF_TUN (IP)
  bool multi_queue = false;
  TunFormat format;
  uid_t owner = 0;             // TUNSETOWNER: this uid may attach with TUNSETIFF itself
  std::optional<gid_t> group;  // TUNSETGROUP
};

class TunControl {
 public:
  virtual ~TunControl() = default;
  // A new device, not persistent: it vanishes when the returned fd (and every copy) is closed.
  virtual Result<UniqueFd> create(const TunCreate& spec) = 0;
  // TUNSETPERSIST on an fd attached to the device.
  virtual Status set_persist(int fd, const std::string& name, bool persist) = 0;
  // Another fd attached to the existing device (EBUSY: not multi-queue and already attached).
  // It sets the device's format, except on a multi-queue device with other queues attached,
  // whose format the new queue gets.
  virtual Result<UniqueFd> attach(const std::string& name, bool tap, bool multi_queue, TunFormat format) = 0;
};

}  // namespace netd::kernel
