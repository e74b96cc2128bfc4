// LinkControl: the changes ops makes to devices and their addresses, and what it reads back
// from the kernel in one round trip. LinkExecutor is the kernel's; unit tests of ops give a
// fake netns.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "lib/core/net_types.h"
#include "lib/core/result.h"

namespace netd::kernel {

// Fields left empty stay as they are.
struct LinkChange {
  std::optional<bool> up;
  std::optional<uint32_t> mtu;
  std::optional<bool> promisc;
};

struct TunInfo {
  bool tap = false;          // IFF_TAP (Ethernet frames) rather than IFF_TUN
  bool persist = false;
  bool multi_queue = false;
  bool packet_info = false;    // fds carry the packet information header (no IFF_NO_PI)
  bool vnet_hdr = false;       // IFF_VNET_HDR
  std::optional<uid_t> owner;  // TUNSETOWNER, if set
  std::optional<gid_t> group;  // TUNSETGROUP, if set
};

struct LinkState {
  bool up = false;
  bool promisc = false;
  uint32_t mtu = 0;
  std::optional<TunInfo> tun;  // set for tun/tap devices
};

class LinkControl {
 public:
  virtual ~LinkControl() = default;
  // `name` only appears in errors.
  virtual Status change(int ifindex, const std::string& name, const LinkChange& change) = 0;
  virtual Status remove(int ifindex, const std::string& name) = 0;
  // An address with its prefix length; with a peer, the peer's prefix is what is on-link
  // (IFA_ADDRESS), as `ip addr add LOCAL peer PEER`.
  virtual Status add_address(int ifindex, const std::string& name, const Prefix& local, const IpAddress& peer) = 0;
  virtual Status remove_address(int ifindex, const std::string& name, const Prefix& local) = 0;

  // Flags, MTU and (for tun/tap devices) the tun attributes, as the kernel has them now.
  virtual Result<LinkState> state(int ifindex, const std::string& name) = 0;
  // ENODEV if there is no such device, EMEDIUMTYPE if it is not a tun/tap device.
  virtual Result<TunInfo> tun_info(int ifindex, const std::string& name) = 0;
  // The index the kernel has for `name` now (ENODEV if none): for a device made a moment ago,
  // which a LinkView learns of only with the next notification.
  virtual Result<int> ifindex_of(const std::string& name) = 0;
};

}  // namespace netd::kernel
