#include "netd/ops/vif_request.h"

#include "lib/core/errors.h"
#include "netd/ops/params.h"

namespace netd::ops {

Result<policy::VifAddressRequest> parse_vif_address(const nlohmann::json& address) {
  NETD_TRY(check_fields(address, {{"address", FieldType::kString, true}, {"peer", FieldType::kString, false}},
                        "address"));
  policy::VifAddressRequest r;
  auto local = Prefix::parse_interface(address["address"].get<std::string>());
  if (!local.ok()) return invalid("address: " + local.error().message);
  r.local = *local;
  if (address.contains("peer")) {
    auto peer = IpAddress::parse(address["peer"].get<std::string>());
    if (!peer.ok()) return invalid("peer: " + peer.error().message);
    r.peer = *peer;
  }
  return r;
}

Result<VifAddParams> parse_vif_add(const nlohmann::json& params) {
  NETD_TRY(check_fields(params,
                        {{"kind", FieldType::kString, true},
                         {"addresses", FieldType::kArray, false},
                         {"mtu", FieldType::kInt, false},
                         {"up", FieldType::kBool, false},
                         {"persist", FieldType::kBool, false},
                         {"multi_queue", FieldType::kBool, false}},
                        "parameters"));
  VifAddParams p;
  auto kind = policy::parse_vif_kind(params["kind"].get<std::string>());
  if (!kind.ok()) return invalid(kind.error().message);
  p.request.kind = *kind;
  if (params.contains("addresses")) {
    for (const auto& a : params["addresses"]) {
      NETD_ASSIGN_OR_RETURN(auto address, parse_vif_address(a));
      p.request.addresses.push_back(address);
    }
  }
  NETD_ASSIGN_OR_RETURN(p.request.mtu, optional_u32(params, "mtu"));
  p.up = params.value("up", false);
  p.persist = params.value("persist", false);
  p.multi_queue = params.value("multi_queue", false);
  return p;
}

Result<std::string> parse_device_name(const nlohmann::json& params, const char* field) {
  std::string name = params[field].get<std::string>();
  if (Status st = check_ifname(name); !st.ok()) return std::move(st).error().with_context(field);
  return name;
}

}  // namespace netd::ops
