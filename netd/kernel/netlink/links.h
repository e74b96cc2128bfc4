// LinkExecutor: changes to devices and their addresses through libnl-route (RTM_NEWLINK,
// RTM_DELLINK, RTM_NEWADDR, RTM_DELADDR), and what the kernel says about a tun device
// (IFLA_INFO_DATA of kind "tun", which libnl does not parse).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "lib/core/net_types.h"
#include "lib/core/result.h"
#include "netd/kernel/netlink/link_control.h"
#include "netd/kernel/netlink/nl_socket.h"

namespace netd::kernel {

// The tun attributes of an RTM_NEWLINK's parsed attributes (tb indexed by IFLA_*); nullopt
// unless the device is of kind "tun".
std::optional<TunInfo> parse_tun_info(struct nlattr** tb);

// Each call is one rtnetlink request (state, tun_info, ifindex_of: one RTM_GETLINK).
class LinkExecutor : public LinkControl {
 public:
  explicit LinkExecutor(NlSocket& sock) : sock_(sock) {}

  Status change(int ifindex, const std::string& name, const LinkChange& change) override;
  Status remove(int ifindex, const std::string& name) override;
  Status add_address(int ifindex, const std::string& name, const Prefix& local, const IpAddress& peer) override;
  Status remove_address(int ifindex, const std::string& name, const Prefix& local) override;
  Result<LinkState> state(int ifindex, const std::string& name) override;
  Result<TunInfo> tun_info(int ifindex, const std::string& name) override;
  Result<int> ifindex_of(const std::string& name) override;

 private:
  NlSocket& sock_;
};

}  // namespace netd::kernel
