// TunControl: the /dev/net/tun calls ops makes (create, persist, attach). TunDevices
// (tun_device.h) is the kernel's; unit tests of ops give a fake netns.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "lib/core/result.h"
#include "lib/core/unique_fd.h"

namespace netd::kernel {

struct TunCreate {
  std::string name;            // at most 15 characters
  bool tap = false;            // IFF_TAP (Ethernet) or IFF_TUN (IP)
  bool multi_queue = false;
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
  virtual Result<UniqueFd> attach(const std::string& name, bool tap, bool multi_queue) = 0;
};

}  // namespace netd::kernel
