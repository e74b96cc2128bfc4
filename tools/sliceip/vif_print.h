// Output of `sliceip address show` and `sliceip link show`: the slice's vifs as `ip address
// show` / `ip link show` print devices, or with -j ip's JSON keys. Pure.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "lib/core/result.h"
#include "tools/sliceip/options.h"

namespace sliceip {

// Printers (see Printer in plan.h) for io.netd.Vifs.List replies. With -4/-6, address show
// lists only addresses of that family and skips vifs without one, as ip does.
netd::Result<std::string> print_addr_show(const nlohmann::json& request,
                                          const nlohmann::json& reply,
                                          const GlobalOptions& options);
netd::Result<std::string> print_link_show(const nlohmann::json& request,
                                          const nlohmann::json& reply,
                                          const GlobalOptions& options);

// One io.netd.Vifs.Vif as text:
//   12: tap7-0: <UP,PROMISC> mtu 1500
//       kind tap owner 1001 persist on multi_queue off
//       inet 10.7.0.1 peer 10.7.0.2/30          (with addresses, of `family` or all)
//       inet6 fd00:7::1/64
std::string vif_text(const nlohmann::json& vif, bool with_addresses, int family);
// The same as JSON, keys as ip -j has them where ip has them (ifindex, ifname, flags, mtu,
// addr_info with family/local/address/prefixlen), netd's for the rest.
nlohmann::ordered_json vif_json(const nlohmann::json& vif, bool with_addresses, int family);

}  // namespace sliceip
