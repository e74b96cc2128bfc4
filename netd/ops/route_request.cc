#include "netd/ops/route_request.h"

#include "lib/core/errors.h"
#include "lib/varlink/schema.h"

namespace netd::ops {

namespace {

Result<IpAddress> address_field(const std::optional<std::string>& text, const char* name) {
  if (!text) return IpAddress();
  auto a = IpAddress::parse(*text);
  if (!a.ok()) return invalid(std::string(name) + ": " + a.error().message);
  return a;
}

}  // namespace

Result<policy::RouteRequest> parse_route(const api::routes::Route& route) {
  policy::RouteRequest r;
  if (route.type) {
    const std::string& type = *route.type;
    if (type == "unicast") r.type = policy::RouteType::kUnicast;
    else if (type == "blackhole") r.type = policy::RouteType::kBlackhole;
    else if (type == "unreachable") r.type = policy::RouteType::kUnreachable;
    else if (type == "prohibit") r.type = policy::RouteType::kProhibit;
    else return invalid("route type '" + type + "' is not one of unicast, blackhole, unreachable, prohibit");
  }
  auto dst = Prefix::parse(route.dst);
  if (!dst.ok()) return invalid("dst: " + dst.error().message);
  r.dst = *dst;
  NETD_ASSIGN_OR_RETURN(r.gateway, address_field(route.gateway, "gateway"));
  NETD_ASSIGN_OR_RETURN(r.src, address_field(route.src, "src"));
  if (route.dev) {
    r.dev = *route.dev;
    if (Status st = check_ifname(r.dev); !st.ok()) return std::move(st).error().with_context("dev");
  }
  NETD_ASSIGN_OR_RETURN(r.metric, varlink::to_u32("metric", route.metric));
  NETD_ASSIGN_OR_RETURN(r.mtu, varlink::to_u32("mtu", route.mtu));
  return r;
}

Result<int> parse_family(const std::optional<std::string>& family) {
  if (!family) return AF_UNSPEC;
  if (*family == "inet") return AF_INET;
  if (*family == "inet6") return AF_INET6;
  return invalid("family '" + *family + "' is not inet or inet6");
}

}  // namespace netd::ops
