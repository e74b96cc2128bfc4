#include "netd/kernel/netlink/ifb.h"

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/inet6.h>
#include <sys/socket.h>

#include <optional>

#include "lib/core/errors.h"
#include "netd/kernel/netlink/link_messages.h"

namespace netd::kernel {
namespace {

constexpr const char* kKind = "ifb";

// What ensure() compares with what it wants.
struct IfbState {
  int ifindex = 0;
  std::string kind;
  std::string alias;
  bool up = false;
  std::optional<uint8_t> addr_gen_mode;  // none when the device has no IPv6 (disabled)
};

std::string string_attr(const nlattr* attr) {
  if (attr == nullptr) return "";
  const auto* text = static_cast<const char*>(nla_data(attr));
  return std::string(text, strnlen(text, static_cast<size_t>(nla_len(attr))));
}

std::optional<uint8_t> addr_gen_mode_of(nlattr** tb) {
  if (tb[IFLA_AF_SPEC] == nullptr) return std::nullopt;
  nlattr* af[AF_MAX + 1] = {};
  if (nla_parse_nested(af, AF_MAX, tb[IFLA_AF_SPEC], nullptr) < 0 || af[AF_INET6] == nullptr) return std::nullopt;
  nlattr* in6[IFLA_INET6_MAX + 1] = {};
  if (nla_parse_nested(in6, IFLA_INET6_MAX, af[AF_INET6], nullptr) < 0 || in6[IFLA_INET6_ADDR_GEN_MODE] == nullptr)
    return std::nullopt;
  return nla_get_u8(in6[IFLA_INET6_ADDR_GEN_MODE]);
}

IfbState state_of(const ifinfomsg* ifi, nlattr** tb) {
  IfbState st;
  st.ifindex = ifi->ifi_index;
  st.kind = link_kind(tb);
  st.alias = string_attr(tb[IFLA_IFALIAS]);
  st.up = (ifi->ifi_flags & IFF_UP) != 0;
  st.addr_gen_mode = addr_gen_mode_of(tb);
  return st;
}

// The uplink ifindex N of a name "netdi<N>" exactly as IfbControl::name_for spells it, else 0.
int uplink_of(const std::string& name) {
  const std::string prefix = IfbControl::kNamePrefix;
  if (name.rfind(prefix, 0) != 0) return 0;
  const std::string digits = name.substr(prefix.size());
  if (digits.empty() || digits.size() > 10 || digits.find_first_not_of("0123456789") != std::string::npos) return 0;
  long long n = std::stoll(digits);
  if (n <= 0 || n > INT32_MAX || IfbControl::name_for(static_cast<int>(n)) != name) return 0;
  return static_cast<int>(n);
}

Result<std::optional<IfbState>> find_by_name(NlSocket& sock, const std::string& name) {
  IfbState st;
  Status got = get_link(sock, 0, name.c_str(), "looking up " + name,
                        [&](const ifinfomsg* ifi, nlattr** tb) { st = state_of(ifi, tb); });
  if (got.ok()) return std::optional<IfbState>(st);
  if (got.error().code == ENODEV) return std::optional<IfbState>();
  return std::move(got).error();
}

Status create(NlSocket& sock, const std::string& name) {
  const std::string what = "creating IFB " + name;
  LinkPtr link(rtnl_link_alloc());
  if (!link) return make_error(ENOMEM, what + ": out of memory");
  rtnl_link_set_name(link.get(), name.c_str());
  if (int err = rtnl_link_set_type(link.get(), kKind); err < 0) return link_libnl_error(err, what);
  rtnl_link_set_txqlen(link.get(), IfbExecutor::kTxQueueLen);
  nl_msg* raw = nullptr;
  if (int err = rtnl_link_build_add_request(link.get(), NLM_F_CREATE | NLM_F_EXCL, &raw); err < 0)
    return link_libnl_error(err, what);
  return sock.request(NlMessage(raw), what);
}

// Alias and addrgenmode, then (a second request) up: the kernel applies flags before
// IFLA_AF_SPEC within one request, and an IFB brought up with the default addrgenmode gets
// a link-local address first. addrgenmode cannot be given at creation either (the device
// has no IPv6 state yet: EAFNOSUPPORT).
Status fix(NlSocket& sock, const IfbState& st, const std::string& name, const std::string& alias) {
  const std::string what = "setting up IFB " + name;
  LinkPtr orig(rtnl_link_alloc());
  if (!orig) return make_error(ENOMEM, what + ": out of memory");
  rtnl_link_set_ifindex(orig.get(), st.ifindex);
  if (st.alias != alias || (st.addr_gen_mode && *st.addr_gen_mode != IN6_ADDR_GEN_MODE_NONE)) {
    LinkPtr changes(rtnl_link_alloc());
    if (!changes) return make_error(ENOMEM, what + ": out of memory");
    rtnl_link_set_ifalias(changes.get(), alias.c_str());
    if (st.addr_gen_mode) {
      if (int err = rtnl_link_inet6_set_addr_gen_mode(changes.get(), IN6_ADDR_GEN_MODE_NONE); err < 0)
        return link_libnl_error(err, what);
    }
    nl_msg* raw = nullptr;
    if (int err = rtnl_link_build_change_request(orig.get(), changes.get(), 0, &raw); err < 0)
      return link_libnl_error(err, what);
    NETD_TRY(sock.request(NlMessage(raw), what));
  }
  if (!st.up) {
    LinkPtr changes(rtnl_link_alloc());
    if (!changes) return make_error(ENOMEM, what + ": out of memory");
    rtnl_link_set_flags(changes.get(), IFF_UP);
    nl_msg* raw = nullptr;
    if (int err = rtnl_link_build_change_request(orig.get(), changes.get(), 0, &raw); err < 0)
      return link_libnl_error(err, what);
    NETD_TRY(sock.request(NlMessage(raw), what + " (up)"));
  }
  return ok_status();
}

Status delete_link(NlSocket& sock, int ifindex, const std::string& what) {
  LinkPtr link(rtnl_link_alloc());
  if (!link) return make_error(ENOMEM, what + ": out of memory");
  rtnl_link_set_ifindex(link.get(), ifindex);
  nl_msg* raw = nullptr;
  if (int err = rtnl_link_build_delete_request(link.get(), &raw); err < 0) return link_libnl_error(err, what);
  Status deleted = sock.request(NlMessage(raw), what);
  if (!deleted.ok() && deleted.error().code == ENODEV) return ok_status();  // gone meanwhile
  return deleted;
}

}  // namespace

Result<int> IfbExecutor::ensure(int uplink_ifindex, const std::string& uplink_name) {
  const std::string name = name_for(uplink_ifindex);
  if (uplink_ifindex <= 0) return make_error(EINVAL, "IFB of ifindex " + std::to_string(uplink_ifindex) + ": no device");
  const std::string alias = alias_for(uplink_name);
  if (uplink_name.empty() || alias.size() >= IFALIASZ)
    return make_error(EINVAL, "IFB " + name + ": uplink name '" + uplink_name + "' is empty or too long");

  NETD_ASSIGN_OR_RETURN(std::optional<IfbState> found, find_by_name(sock_, name));
  if (found) {
    if (found->kind != kKind)
      return make_error(EEXIST, "IFB " + name + ": a device of that name exists and is not an ifb (kind " +
                                    (found->kind.empty() ? std::string("none") : found->kind) + ")");
    NETD_TRY(fix(sock_, *found, name, alias));
    return found->ifindex;
  }

  NETD_TRY(create(sock_, name));
  NETD_ASSIGN_OR_RETURN(found, find_by_name(sock_, name));
  if (!found) return make_error(ENODEV, "IFB " + name + ": gone right after it was made");
  if (Status fixed = fix(sock_, *found, name, alias); !fixed.ok())
    return with_undo(std::move(fixed).error(), delete_link(sock_, found->ifindex, "deleting IFB " + name),
                     "IFB " + name);
  return found->ifindex;
}

Status IfbExecutor::remove(int ifb_ifindex) {
  const std::string what = "deleting IFB ifindex " + std::to_string(ifb_ifindex);
  if (ifb_ifindex <= 0) return make_error(EINVAL, what + ": no device");
  IfbState st;
  std::string name;
  Status got = get_link(sock_, ifb_ifindex, nullptr, what, [&](const ifinfomsg* ifi, nlattr** tb) {
    st = state_of(ifi, tb);
    name = string_attr(tb[IFLA_IFNAME]);
  });
  if (!got.ok()) {
    if (got.error().code == ENODEV) return ok_status();
    return got;
  }
  if (st.kind != kKind || uplink_of(name) == 0)
    return make_error(EINVAL, what + ": " + name + " is not netd's IFB (kind ifb named netdi<uplink ifindex>)");
  return delete_link(sock_, ifb_ifindex, what + " (" + name + ")");
}

Result<std::map<int, int>> IfbExecutor::list() {
  std::map<int, int> ifbs;
  nl_msg* msg = nlmsg_alloc_simple(RTM_GETLINK, NLM_F_DUMP);
  if (msg == nullptr) return make_error(ENOMEM, "listing IFBs: out of memory");
  NlMessage request(msg);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  if (nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0) return make_error(ENOMEM, "listing IFBs: out of memory");
  NETD_TRY(sock_.dump(request, "listing IFBs", [&](nlmsghdr* nlh) {
    if (nlh->nlmsg_type != RTM_NEWLINK) return;
    nlattr* tb[IFLA_MAX + 1] = {};
    if (nlmsg_parse(nlh, sizeof(ifinfomsg), tb, IFLA_MAX, nullptr) < 0) return;
    if (link_kind(tb) != kKind) return;
    int uplink = uplink_of(string_attr(tb[IFLA_IFNAME]));
    if (uplink != 0) ifbs[uplink] = static_cast<const ifinfomsg*>(nlmsg_data(nlh))->ifi_index;
  }));
  return ifbs;
}

}  // namespace netd::kernel
