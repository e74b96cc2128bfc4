// Pieces shared by the executors that make and read devices over rtnetlink (LinkExecutor,
// IfbExecutor): the libnl link object as an RAII handle, one RTM_GETLINK, and the attributes
// libnl's parsed objects do not give back.
#pragma once

#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/route/link.h>

#include <functional>
#include <memory>
#include <string>

#include "lib/core/result.h"
#include "netd/kernel/netlink/nl_socket.h"

namespace netd::kernel {

struct LinkDeleter {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
using LinkPtr = std::unique_ptr<rtnl_link, LinkDeleter>;

// libnl could not build the message (it only fails for memory).
Error link_libnl_error(int err, const std::string& what);

// One RTM_GETLINK, by index or (ifindex 0) by name; `on_link` gets the reply's attributes
// (tb indexed by IFLA_*). ENODEV, prefixed by `what`, when there is no such device.
Status get_link(NlSocket& sock, int ifindex, const char* name, const std::string& what,
                const std::function<void(const ifinfomsg*, nlattr** tb)>& on_link);

// IFLA_INFO_KIND ("veth", "ifb", ...); "" for a device without one.
std::string link_kind(nlattr** tb);

}  // namespace netd::kernel
