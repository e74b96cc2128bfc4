#include "netd/kernel/netlink/routes.h"

#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>

#include <memory>

#include "netd/kernel/netlink/nl_addr.h"

namespace netd::kernel {

namespace {

struct RouteDeleter {
  void operator()(rtnl_route* r) const { rtnl_route_put(r); }
};
struct RuleDeleter {
  void operator()(rtnl_rule* r) const { rtnl_rule_put(r); }
};
using RoutePtr = std::unique_ptr<rtnl_route, RouteDeleter>;
using AddrPtr = NlAddrPtr;
using RulePtr = std::unique_ptr<rtnl_rule, RuleDeleter>;

// Builds the libnl route object for add / delete. `for_delete` leaves the scope at
// RT_SCOPE_NOWHERE so the kernel matches routes of any scope, as `ip route del` does.
Result<RoutePtr> build_route(const RouteSpec& spec, bool for_delete) {
  RoutePtr route(rtnl_route_alloc());
  if (!route) return make_error(ENOMEM, "allocating a route");
  rtnl_route_set_family(route.get(), static_cast<uint8_t>(spec.family()));
  rtnl_route_set_table(route.get(), spec.table);
  rtnl_route_set_type(route.get(), spec.type);
  AddrPtr dst = to_nl_addr(spec.dst.address(), spec.dst.length());
  if (!dst) return make_error(ENOMEM, "allocating an address");
  rtnl_route_set_dst(route.get(), dst.get());
  if (for_delete) {
    // Match any scope and protocol, as `ip route del` does.
    rtnl_route_set_scope(route.get(), RT_SCOPE_NOWHERE);
    rtnl_route_set_protocol(route.get(), RTPROT_UNSPEC);
  } else {
    rtnl_route_set_protocol(route.get(), RTPROT_STATIC);
    bool on_link = spec.type == RTN_UNICAST && spec.gateway.empty();
    rtnl_route_set_scope(route.get(), on_link ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE);
  }
  if (spec.metric) rtnl_route_set_priority(route.get(), *spec.metric);
  // A delete names the route by type, dst, table, next hop and metric (as `ip route del`);
  // attributes such as the source and the MTU are not part of its identity.
  if (spec.mtu && !for_delete) rtnl_route_set_metric(route.get(), RTAX_MTU, *spec.mtu);
  if (!spec.src.empty() && !for_delete) {
    AddrPtr src = to_nl_addr(spec.src, spec.src.bit_length());
    rtnl_route_set_pref_src(route.get(), src.get());
  }
  if (spec.ifindex != 0 || !spec.gateway.empty()) {
    rtnl_nexthop* nh = rtnl_route_nh_alloc();
    if (nh == nullptr) return make_error(ENOMEM, "allocating a next hop");
    if (spec.ifindex != 0) rtnl_route_nh_set_ifindex(nh, spec.ifindex);
    if (!spec.gateway.empty()) {
      AddrPtr gw = to_nl_addr(spec.gateway, spec.gateway.bit_length());
      rtnl_route_nh_set_gateway(nh, gw.get());
    }
    rtnl_route_add_nexthop(route.get(), nh);  // the route owns nh now
  }
  return route;
}

// Converts a parsed kernel route; single-path routes only (netd never makes multipath ones).
RouteSpec from_rtnl(rtnl_route* r) {
  RouteSpec spec;
  spec.type = rtnl_route_get_type(r);
  nl_addr* dst = rtnl_route_get_dst(r);
  IpAddress dst_addr = from_nl_addr(dst);
  if (dst_addr.empty()) {
    uint8_t zero[16] = {};
    dst_addr = IpAddress::from_bytes(rtnl_route_get_family(r), zero);
  }
  spec.dst = Prefix(dst_addr, dst != nullptr ? static_cast<int>(nl_addr_get_prefixlen(dst)) : 0);
  spec.src = from_nl_addr(rtnl_route_get_pref_src(r));
  spec.table = rtnl_route_get_table(r);
  uint32_t priority = rtnl_route_get_priority(r);
  if (priority != 0) spec.metric = priority;
  uint32_t mtu = 0;
  if (rtnl_route_get_metric(r, RTAX_MTU, &mtu) == 0 && mtu != 0) spec.mtu = mtu;
  if (rtnl_route_get_nnexthops(r) >= 1) {
    rtnl_nexthop* nh = rtnl_route_nexthop_n(r, 0);
    spec.ifindex = rtnl_route_nh_get_ifindex(nh);
    spec.gateway = from_nl_addr(rtnl_route_nh_get_gateway(nh));
  }
  return spec;
}

NlMessage route_dump_request(uint32_t table, int family) {
  nl_msg* msg = nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_DUMP);
  rtmsg rtm{};
  rtm.rtm_family = static_cast<uint8_t>(family);
  rtm.rtm_table = static_cast<uint8_t>(table < 256 ? table : RT_TABLE_UNSPEC);
  nlmsg_append(msg, &rtm, sizeof rtm, NLMSG_ALIGNTO);
  // With strict checking the kernel filters by table; 0 means every table.
  if (table != 0) nla_put_u32(msg, RTA_TABLE, table);
  return NlMessage(msg);
}

}  // namespace

std::string describe_route(const RouteSpec& route) {
  std::string text;
  switch (route.type) {
    case RTN_BLACKHOLE: text = "blackhole "; break;
    case RTN_UNREACHABLE: text = "unreachable "; break;
    case RTN_PROHIBIT: text = "prohibit "; break;
    default: break;
  }
  text += route.dst.to_string();
  if (!route.gateway.empty()) text += " via " + route.gateway.to_string();
  return text;
}

Status RouteExecutor::add(const RouteSpec& spec, bool replace) {
  NETD_ASSIGN_OR_RETURN(RoutePtr route, build_route(spec, false));
  nl_msg* msg = nullptr;
  int flags = NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL);
  if (int err = rtnl_route_build_add_request(route.get(), flags, &msg); err < 0)
    return make_error(EINVAL, "building route " + describe_route(spec) + ": " + nl_geterror(err));
  return sock_.request(NlMessage(msg), (replace ? "replacing route " : "adding route ") + describe_route(spec));
}

Status RouteExecutor::remove(const RouteSpec& spec) {
  NETD_ASSIGN_OR_RETURN(RoutePtr route, build_route(spec, true));
  nl_msg* msg = nullptr;
  if (int err = rtnl_route_build_del_request(route.get(), 0, &msg); err < 0)
    return make_error(EINVAL, "building route " + describe_route(spec) + ": " + nl_geterror(err));
  return sock_.request(NlMessage(msg), "deleting route " + describe_route(spec));
}

Result<std::vector<RouteSpec>> RouteExecutor::list(uint32_t table, int family) {
  std::vector<RouteSpec> routes;
  auto collect = [&](nlmsghdr* hdr) {
    rtnl_route* parsed = nullptr;
    if (rtnl_route_parse(hdr, &parsed) < 0) return;
    RoutePtr owner(parsed);
    if (table != 0 && rtnl_route_get_table(parsed) != table) return;  // old kernels ignore the filter
    routes.push_back(from_rtnl(parsed));
  };
  auto dumped = sock_.dump(route_dump_request(table, family), "listing table " + std::to_string(table), collect);
  // A per-family dump of a table the kernel never created is ENOENT: that table is empty.
  if (!dumped.ok() && !(dumped.error().code == ENOENT && table != 0)) return std::move(dumped).error();
  return routes;
}

Result<RouteLookup> RouteExecutor::lookup(const IpAddress& dst, uint32_t mark, uint32_t uid) {
  nl_msg* msg = nlmsg_alloc_simple(RTM_GETROUTE, 0);
  NlMessage owner(msg);
  rtmsg rtm{};
  rtm.rtm_family = static_cast<uint8_t>(dst.family());
  rtm.rtm_dst_len = static_cast<uint8_t>(dst.bit_length());
  // IPv4 answers "main" whichever table matched unless asked; IPv6 always reports the table
  // and refuses the flag under strict checking.
  if (dst.family() == AF_INET) rtm.rtm_flags = RTM_F_LOOKUP_TABLE;
  nlmsg_append(msg, &rtm, sizeof rtm, NLMSG_ALIGNTO);
  nla_put(msg, RTA_DST, static_cast<int>(dst.size()), dst.bytes());
  nla_put_u32(msg, RTA_MARK, mark);
  nla_put_u32(msg, RTA_UID, uid);
  std::optional<RouteLookup> answer;
  auto collect = [&](nlmsghdr* hdr) {
    rtnl_route* parsed = nullptr;
    if (rtnl_route_parse(hdr, &parsed) < 0) return;
    RoutePtr route(parsed);
    answer = RouteLookup{from_rtnl(parsed), rtnl_route_get_table(parsed)};
  };
  NETD_TRY(sock_.dump(owner, "looking up a route to " + dst.to_string(), collect));
  if (!answer) return make_error(ENETUNREACH, "no route to " + dst.to_string());
  return *answer;
}

namespace {

Result<RulePtr> build_rule(const RoutingRule& spec) {
  RulePtr rule(rtnl_rule_alloc());
  if (!rule) return make_error(ENOMEM, "allocating a rule");
  rtnl_rule_set_family(rule.get(), spec.family);
  rtnl_rule_set_prio(rule.get(), spec.priority);
  if (spec.mask != 0) {
    // A mark of 0 under a mask is a selector too (`fwmark 0/MASK`: no bit of MASK set).
    rtnl_rule_set_mark(rule.get(), spec.mark);
    rtnl_rule_set_mask(rule.get(), spec.mask);
  }
  switch (spec.action) {
    case RoutingRule::Action::kLookup:
      rtnl_rule_set_table(rule.get(), spec.table);
      rtnl_rule_set_action(rule.get(), FR_ACT_TO_TBL);
      break;
    case RoutingRule::Action::kGoto:
      rtnl_rule_set_goto(rule.get(), spec.target);
      rtnl_rule_set_action(rule.get(), FR_ACT_GOTO);
      break;
    case RoutingRule::Action::kNop:
      rtnl_rule_set_action(rule.get(), FR_ACT_NOP);
      break;
  }
  return rule;
}

// Attributes of selectors netd never sets: a rule carrying one is someone else's.
constexpr int kForeignSelectors[] = {FRA_IIFNAME, FRA_OIFNAME, FRA_SRC, FRA_DST, FRA_UID_RANGE,
                                     FRA_IP_PROTO, FRA_SPORT_RANGE, FRA_DPORT_RANGE};

// Whether a dumped rule carries a selector netd never sets. The kernel dumps the suppress_*
// attributes with -1 when unset, l3mdev and tun_id only when set, but a 0 is read as unset too.
bool has_foreign_selector(nlattr* const* tb) {
  for (int attr : kForeignSelectors)
    if (tb[attr] != nullptr) return true;
  for (int attr : {FRA_SUPPRESS_PREFIXLEN, FRA_SUPPRESS_IFGROUP})
    if (tb[attr] != nullptr && nla_get_u32(tb[attr]) != UINT32_MAX) return true;
  if (tb[FRA_L3MDEV] != nullptr && nla_get_u8(tb[FRA_L3MDEV]) != 0) return true;
  return tb[FRA_TUN_ID] != nullptr && nla_get_u64(tb[FRA_TUN_ID]) != 0;
}

}  // namespace

std::string describe_rule(const RoutingRule& r) {
  std::string text = std::string(r.family == AF_INET6 ? "inet6 " : "") + "rule " + std::to_string(r.priority) + ":";
  if (r.mask != 0) {
    char mark[32];
    snprintf(mark, sizeof mark, " fwmark 0x%x/0x%x", r.mark, r.mask);
    text += mark;
  }
  switch (r.action) {
    case RoutingRule::Action::kLookup: return text + " lookup " + std::to_string(r.table);
    case RoutingRule::Action::kGoto: return text + " goto " + std::to_string(r.target);
    case RoutingRule::Action::kNop: return text + " nop";
  }
  return text;
}

Status RouteExecutor::add_rule(const RoutingRule& spec) {
  NETD_ASSIGN_OR_RETURN(RulePtr rule, build_rule(spec));
  nl_msg* msg = nullptr;
  if (int err = rtnl_rule_build_add_request(rule.get(), NLM_F_EXCL, &msg); err < 0)
    return make_error(EINVAL, "building " + describe_rule(spec) + ": " + nl_geterror(err));
  return sock_.request(NlMessage(msg), "adding " + describe_rule(spec));
}

Status RouteExecutor::remove_rule(const RoutingRule& spec) {
  NETD_ASSIGN_OR_RETURN(RulePtr rule, build_rule(spec));
  nl_msg* msg = nullptr;
  if (int err = rtnl_rule_build_delete_request(rule.get(), 0, &msg); err < 0)
    return make_error(EINVAL, "building " + describe_rule(spec) + ": " + nl_geterror(err));
  return sock_.request(NlMessage(msg), "deleting " + describe_rule(spec));
}

Result<std::vector<RoutingRule>> RouteExecutor::list_rules(int family, uint32_t first, uint32_t last) {
  nl_msg* msg = nlmsg_alloc_simple(RTM_GETRULE, NLM_F_DUMP);
  NlMessage owner(msg);
  fib_rule_hdr frh{};
  frh.family = static_cast<uint8_t>(family);
  nlmsg_append(msg, &frh, sizeof frh, NLMSG_ALIGNTO);
  std::vector<RoutingRule> rules;
  auto collect = [&](nlmsghdr* hdr) {
    if (hdr->nlmsg_type != RTM_NEWRULE) return;
    auto* h = static_cast<fib_rule_hdr*>(nlmsg_data(hdr));
    nlattr* tb[FRA_MAX + 1] = {};
    if (nlmsg_parse(hdr, sizeof(fib_rule_hdr), tb, FRA_MAX, nullptr) < 0) return;
    const uint32_t priority = tb[FRA_PRIORITY] != nullptr ? nla_get_u32(tb[FRA_PRIORITY]) : 0;
    if (priority < first || priority > last) return;
    RoutingRule rule;
    rule.family = h->family;
    rule.priority = priority;
    // The kernel leaves out a mark of 0 and a mask of all ones.
    rule.mark = tb[FRA_FWMARK] != nullptr ? nla_get_u32(tb[FRA_FWMARK]) : 0;
    rule.mask = tb[FRA_FWMASK] != nullptr ? nla_get_u32(tb[FRA_FWMASK]) : (rule.mark != 0 ? 0xffffffff : 0);
    rule.table = tb[FRA_TABLE] != nullptr ? nla_get_u32(tb[FRA_TABLE]) : h->table;
    rule.target = tb[FRA_GOTO] != nullptr ? nla_get_u32(tb[FRA_GOTO]) : 0;
    switch (h->action) {
      case FR_ACT_TO_TBL: rule.action = RoutingRule::Action::kLookup; break;
      case FR_ACT_GOTO: rule.action = RoutingRule::Action::kGoto; rule.table = 0; break;
      case FR_ACT_NOP: rule.action = RoutingRule::Action::kNop; rule.table = 0; break;
      default: rule.foreign = true; break;
    }
    // FIB_RULE_UNRESOLVED marks a goto whose target is missing: still netd's shape.
    if ((h->flags & FIB_RULE_INVERT) != 0 || h->src_len != 0 || h->dst_len != 0 || h->tos != 0 ||
        has_foreign_selector(tb))
      rule.foreign = true;
    rules.push_back(rule);
  };
  NETD_TRY(sock_.dump(owner, "listing rules", collect));
  return rules;
}

}  // namespace netd::kernel
