#include "netd/kernel/netlink/links.h"

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include <cstring>
#include <memory>

#include "netd/kernel/netlink/link_messages.h"
#include "netd/kernel/netlink/nl_addr.h"

namespace netd::kernel {
namespace {

struct AddrDeleter {
  void operator()(rtnl_addr* a) const { rtnl_addr_put(a); }
};
using AddrPtr = std::unique_ptr<rtnl_addr, AddrDeleter>;

Result<AddrPtr> build_addr(int ifindex, const Prefix& local, const IpAddress& peer) {
  AddrPtr addr(rtnl_addr_alloc());
  NlAddrPtr l = to_nl_addr(local.address(), local.length());
  if (!addr || !l) return make_error(ENOMEM, "allocating an address");
  rtnl_addr_set_ifindex(addr.get(), ifindex);
  rtnl_addr_set_family(addr.get(), local.family());
  rtnl_addr_set_local(addr.get(), l.get());
  if (!peer.empty()) {
    NlAddrPtr p = to_nl_addr(peer, local.length());
    if (!p) return make_error(ENOMEM, "allocating an address");
    rtnl_addr_set_peer(addr.get(), p.get());
  }
  rtnl_addr_set_prefixlen(addr.get(), local.length());
  return addr;
}

}  // namespace

Status LinkExecutor::change(int ifindex, const std::string& name, const LinkChange& change) {
  const std::string what = "changing link " + name;
  LinkPtr orig(rtnl_link_alloc());
  LinkPtr changes(rtnl_link_alloc());
  if (!orig || !changes) return make_error(ENOMEM, what + ": out of memory");
  rtnl_link_set_ifindex(orig.get(), ifindex);
  if (change.up) (*change.up ? rtnl_link_set_flags : rtnl_link_unset_flags)(changes.get(), IFF_UP);
  if (change.promisc) (*change.promisc ? rtnl_link_set_flags : rtnl_link_unset_flags)(changes.get(), IFF_PROMISC);
  if (change.mtu) rtnl_link_set_mtu(changes.get(), *change.mtu);
  nl_msg* raw = nullptr;
  if (int err = rtnl_link_build_change_request(orig.get(), changes.get(), 0, &raw); err < 0)
    return link_libnl_error(err, what);
  return sock_.request(NlMessage(raw), what);
}

Status LinkExecutor::remove(int ifindex, const std::string& name) {
  const std::string what = "deleting link " + name;
  LinkPtr link(rtnl_link_alloc());
  if (!link) return make_error(ENOMEM, what + ": out of memory");
  rtnl_link_set_ifindex(link.get(), ifindex);
  nl_msg* raw = nullptr;
  if (int err = rtnl_link_build_delete_request(link.get(), &raw); err < 0) return link_libnl_error(err, what);
  return sock_.request(NlMessage(raw), what);
}

Status LinkExecutor::add_address(int ifindex, const std::string& name, const Prefix& local, const IpAddress& peer) {
  const std::string what = "adding address " + local.to_string() + " to " + name;
  NETD_ASSIGN_OR_RETURN(AddrPtr addr, build_addr(ifindex, local, peer));
  nl_msg* raw = nullptr;
  if (int err = rtnl_addr_build_add_request(addr.get(), NLM_F_CREATE | NLM_F_EXCL, &raw); err < 0)
    return link_libnl_error(err, what);
  return sock_.request(NlMessage(raw), what);
}

Status LinkExecutor::remove_address(int ifindex, const std::string& name, const Prefix& local) {
  const std::string what = "deleting address " + local.to_string() + " from " + name;
  NETD_ASSIGN_OR_RETURN(AddrPtr addr, build_addr(ifindex, local, IpAddress{}));
  nl_msg* raw = nullptr;
  if (int err = rtnl_addr_build_delete_request(addr.get(), 0, &raw); err < 0) return link_libnl_error(err, what);
  return sock_.request(NlMessage(raw), what);
}

Result<LinkState> LinkExecutor::state(int ifindex, const std::string& name) {
  LinkState st;
  NETD_TRY(get_link(sock_, ifindex, nullptr, "reading link " + name, [&](const ifinfomsg* ifi, nlattr** tb) {
    st.up = (ifi->ifi_flags & IFF_UP) != 0;
    st.promisc = (ifi->ifi_flags & IFF_PROMISC) != 0;
    if (tb[IFLA_MTU] != nullptr) st.mtu = nla_get_u32(tb[IFLA_MTU]);
    st.tun = parse_tun_info(tb);
  }));
  return st;
}

std::optional<TunInfo> parse_tun_info(nlattr** tb) {
  if (link_kind(tb) != "tun") return std::nullopt;
  nlattr* li[IFLA_INFO_MAX + 1] = {};
  if (nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], nullptr) < 0) return std::nullopt;
  TunInfo info;
  if (li[IFLA_INFO_DATA] == nullptr) return info;
  nlattr* td[IFLA_TUN_MAX + 1] = {};
  if (nla_parse_nested(td, IFLA_TUN_MAX, li[IFLA_INFO_DATA], nullptr) < 0) return info;
  if (td[IFLA_TUN_TYPE] != nullptr) info.tap = nla_get_u8(td[IFLA_TUN_TYPE]) == IFF_TAP;
  if (td[IFLA_TUN_PERSIST] != nullptr) info.persist = nla_get_u8(td[IFLA_TUN_PERSIST]) != 0;
  if (td[IFLA_TUN_MULTI_QUEUE] != nullptr) info.multi_queue = nla_get_u8(td[IFLA_TUN_MULTI_QUEUE]) != 0;
  if (td[IFLA_TUN_PI] != nullptr) info.packet_info = nla_get_u8(td[IFLA_TUN_PI]) != 0;
  if (td[IFLA_TUN_VNET_HDR] != nullptr) info.vnet_hdr = nla_get_u8(td[IFLA_TUN_VNET_HDR]) != 0;
  if (td[IFLA_TUN_OWNER] != nullptr) info.owner = nla_get_u32(td[IFLA_TUN_OWNER]);
  if (td[IFLA_TUN_GROUP] != nullptr) info.group = nla_get_u32(td[IFLA_TUN_GROUP]);
  return info;
}

Result<int> LinkExecutor::ifindex_of(const std::string& name) {
  int ifindex = 0;
  NETD_TRY(get_link(sock_, 0, name.c_str(), "looking up the index of " + name,
                    [&](const ifinfomsg* ifi, nlattr**) { ifindex = ifi->ifi_index; }));
  return ifindex;
}

Result<TunInfo> LinkExecutor::tun_info(int ifindex, const std::string& name) {
  NETD_ASSIGN_OR_RETURN(LinkState st, state(ifindex, name));
  if (!st.tun) return make_error(EMEDIUMTYPE, name + " is not a tun/tap device");
  return *st.tun;
}

}  // namespace netd::kernel
