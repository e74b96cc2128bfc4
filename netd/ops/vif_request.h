// io.netd.Vifs parameters (shape already checked against the IDL) → requests for the pure
// decisions: the values parsed, unparsable ones refused with a reason naming the field.
#pragma once

#include <optional>
#include <string>

#include "lib/core/result.h"
#include "lib/varlink/api/vifs.h"
#include "netd/kernel/tun/tun_control.h"
#include "netd/policy/vif_decision.h"

namespace netd::ops {

struct VifAddParams {
  policy::VifRequest request;
  bool up = false;
  bool persist = false;
  bool multi_queue = false;
  kernel::TunFormat format;
};

// The parameters of io.netd.Vifs.Add.
Result<VifAddParams> parse_vif_add(const api::vifs::AddIn& in);
// The packet format an Add or Attach asks for (packet_info, vnet_hdr; both off by default).
kernel::TunFormat parse_tun_format(const std::optional<bool>& packet_info, const std::optional<bool>& vnet_hdr);
// An Address object ({"address": "10.7.0.1/30", "peer": "10.7.0.2"}).
Result<policy::VifAddressRequest> parse_vif_address(const api::vifs::Address& address);
// A device name field: what the kernel accepts as a name (check_ifname: 1..15 bytes, no '/',
// ':', whitespace or NUL, not "." or "..").
Result<std::string> parse_device_name(const std::string& name, const char* field);

}  // namespace netd::ops
