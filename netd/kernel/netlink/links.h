// LinkExecutor: changes to devices and their addresses through libnl-route (RTM_NEWLINK,
// RTM_DELLINK, RTM_NEWADDR, RTM_DELADDR), and what the kernel says about a tun device
// (IFLA_INFO_DATA of kind "tun", which libnl does not parse).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "lib/core/net_types.h"
#include "lib/core/result.h"
#include "netd/kernel/netlink/nl_socket.h"

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
  std::optional<uid_t> owner;  // TUNSETOWNER, if set
  std::optional<gid_t> group;  // TUNSETGROUP, if set
};

struct LinkState {
  bool up = false;
  bool promisc = false;
  uint32_t mtu = 0;
  std::optional<TunInfo> tun;  // set for tun/tap devices
};


// The tun attributes of an RTM_NEWLINK's parsed attributes (tb indexed by IFLA_*); nullopt
// unless the device is of kind "tun".
std::optional<TunInfo> parse_tun_info(struct nlattr** tb);

class LinkExecutor {
 public:
  explicit LinkExecutor(NlSocket& sock) : sock_(sock) {}

  // `name` only appears in errors.
  Status change(int ifindex, const std::string& name, const LinkChange& change);
  Status remove(int ifindex, const std::string& name);
  // An address with its prefix length; with a peer, the peer's prefix is what is on-link
  // (IFA_ADDRESS), as `ip addr add LOCAL peer PEER`.
  Status add_address(int ifindex, const std::string& name, const Prefix& local, const IpAddress& peer);
  Status remove_address(int ifindex, const std::string& name, const Prefix& local);

  // Flags, MTU and (for tun/tap devices) the tun attributes, as the kernel has them now (one
  // RTM_GETLINK).
  Result<LinkState> state(int ifindex, const std::string& name);
  // ENODEV if there is no such device, EMEDIUMTYPE if it is not a tun/tap device.
  Result<TunInfo> tun_info(int ifindex, const std::string& name);

 private:
  NlSocket& sock_;
};

}  // namespace netd::kernel
