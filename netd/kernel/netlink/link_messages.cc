#include "netd/kernel/netlink/link_messages.h"

#include <linux/if_link.h>
#include <netlink/errno.h>

#include <cstring>

namespace netd::kernel {

Error link_libnl_error(int err, const std::string& what) { return make_error(ENOMEM, what + ": " + nl_geterror(err)); }

Status get_link(NlSocket& sock, int ifindex, const char* name, const std::string& what,
                const std::function<void(const ifinfomsg*, nlattr** tb)>& on_link) {
  nl_msg* raw = nullptr;
  if (int err = rtnl_link_build_get_request(ifindex, name, &raw); err < 0) return link_libnl_error(err, what);
  NlMessage msg(raw);
  bool found = false;
  NETD_TRY(sock.dump(msg, what, [&](nlmsghdr* nlh) {
    if (nlh->nlmsg_type != RTM_NEWLINK) return;
    nlattr* tb[IFLA_MAX + 1] = {};
    if (nlmsg_parse(nlh, sizeof(ifinfomsg), tb, IFLA_MAX, nullptr) < 0) return;
    found = true;
    on_link(static_cast<const ifinfomsg*>(nlmsg_data(nlh)), tb);
  }));
  if (!found) return make_error(ENODEV, what + ": no such device");
  return ok_status();
}

std::string link_kind(nlattr** tb) {
  if (tb[IFLA_LINKINFO] == nullptr) return "";
  nlattr* li[IFLA_INFO_MAX + 1] = {};
  if (nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], nullptr) < 0 || li[IFLA_INFO_KIND] == nullptr) return "";
  const auto* text = static_cast<const char*>(nla_data(li[IFLA_INFO_KIND]));
  return std::string(text, strnlen(text, static_cast<size_t>(nla_len(li[IFLA_INFO_KIND]))));
}

}  // namespace netd::kernel
