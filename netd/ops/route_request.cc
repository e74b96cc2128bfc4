#include "netd/ops/route_request.h"

#include "lib/core/errors.h"
#include "netd/ops/params.h"

namespace netd::ops {

namespace {

Result<IpAddress> address_field(const nlohmann::json& route, const char* name) {
  if (!route.contains(name)) return IpAddress();
  auto a = IpAddress::parse(route[name].get<std::string>());
  if (!a.ok()) return invalid(std::string(name) + ": " + a.error().message);
  return a;
}

}  // namespace

Result<policy::RouteRequest> parse_route(const nlohmann::json& route) {
  NETD_TRY(check_fields(route,
                        {{"type", FieldType::kString, false},
                         {"dst", FieldType::kString, true},
                         {"gateway", FieldType::kString, false},
                         {"dev", FieldType::kString, false},
                         {"src", FieldType::kString, false},
                         {"metric", FieldType::kInt, false},
                         {"mtu", FieldType::kInt, false}},
                        "route"));
  policy::RouteRequest r;
  if (route.contains("type")) {
    std::string type = route["type"].get<std::string>();
    if (type == "unicast") r.type = policy::RouteType::kUnicast;
    else if (type == "blackhole") r.type = policy::RouteType::kBlackhole;
    else if (type == "unreachable") r.type = policy::RouteType::kUnreachable;
    else if (type == "prohibit") r.type = policy::RouteType::kProhibit;
    else return invalid("route type '" + type + "' is not one of unicast, blackhole, unreachable, prohibit");
  }
  auto dst = Prefix::parse(route["dst"].get<std::string>());
  if (!dst.ok()) return invalid("dst: " + dst.error().message);
  r.dst = *dst;
  NETD_ASSIGN_OR_RETURN(r.gateway, address_field(route, "gateway"));
  NETD_ASSIGN_OR_RETURN(r.src, address_field(route, "src"));
  if (route.contains("dev")) {
    r.dev = route["dev"].get<std::string>();
    if (Status st = check_ifname(r.dev); !st.ok()) return std::move(st).error().with_context("dev");
  }
  NETD_ASSIGN_OR_RETURN(r.metric, optional_u32(route, "metric"));
  NETD_ASSIGN_OR_RETURN(r.mtu, optional_u32(route, "mtu"));
  return r;
}

Result<int> parse_family(const nlohmann::json& params) {
  if (!params.contains("family")) return AF_UNSPEC;
  std::string f = params["family"].get<std::string>();
  if (f == "inet") return AF_INET;
  if (f == "inet6") return AF_INET6;
  return invalid("family '" + f + "' is not inet or inet6");
}

}  // namespace netd::ops
