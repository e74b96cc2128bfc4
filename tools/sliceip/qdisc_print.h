// Output of `sliceip qdisc show`: the root qdisc of the slice's vifs as `tc -s qdisc show`
// prints them, or with -j netd's keys (rates in bit/s, sizes in bytes). Pure.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "lib/core/result.h"
#include "tools/sliceip/options.h"

namespace sliceip {

// Printer (see Printer in plan.h) for io.netd.Qdiscs.List replies.
netd::Result<std::string> print_qdisc_list(const nlohmann::json& request, const nlohmann::json& reply,
                                           const GlobalOptions& options);

// One io.netd.Qdiscs.Qdisc as text:
//   qdisc tbf 2: dev tun7-0 root rate 10mbit burst 10KiB limit 72740b
//    Sent 42000 bytes 30 pkt (dropped 0, overlimits 3 requeues 0)
//    backlog 0b 0p
std::string qdisc_text(const nlohmann::json& qdisc);
// The same as JSON, keys in a fixed order (those of the reply that are present).
nlohmann::ordered_json qdisc_json(const nlohmann::json& qdisc);

}  // namespace sliceip
