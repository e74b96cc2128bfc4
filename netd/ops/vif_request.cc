#include "netd/ops/vif_request.h"

#include "lib/core/errors.h"
#include "lib/varlink/schema.h"

namespace netd::ops {

Result<policy::VifAddressRequest> parse_vif_address(const api::vifs::Address& address) {
  policy::VifAddressRequest r;
  auto local = Prefix::parse_interface(address.address);
  if (!local.ok()) return invalid("address: " + local.error().message);
  r.local = *local;
  if (address.peer) {
    auto peer = IpAddress::parse(*address.peer);
    if (!peer.ok()) return invalid("peer: " + peer.error().message);
    r.peer = *peer;
  }
  return r;
}

Result<VifAddParams> parse_vif_add(const api::vifs::AddIn& in) {
  VifAddParams p;
  auto kind = policy::parse_vif_kind(in.kind);
  if (!kind.ok()) return invalid(kind.error().message);
  p.request.kind = *kind;
  for (const auto& a : in.addresses.value_or(std::vector<api::vifs::Address>{})) {
    NETD_ASSIGN_OR_RETURN(auto address, parse_vif_address(a));
    p.request.addresses.push_back(address);
  }
  NETD_ASSIGN_OR_RETURN(p.request.mtu, varlink::to_u32("mtu", in.mtu));
  p.up = in.up.value_or(false);
  p.persist = in.persist.value_or(false);
  p.multi_queue = in.multi_queue.value_or(false);
  p.format = parse_tun_format(in.packet_info, in.vnet_hdr);
  return p;
}

kernel::TunFormat parse_tun_format(const std::optional<bool>& packet_info, const std::optional<bool>& vnet_hdr) {
  return {packet_info.value_or(false), vnet_hdr.value_or(false)};
}

Result<std::string> parse_device_name(const std::string& name, const char* field) {
  if (Status st = check_ifname(name); !st.ok()) return std::move(st).error().with_context(field);
  return name;
}

}  // namespace netd::ops
