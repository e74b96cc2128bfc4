// The words of an io.netd.Sockets.Raw request ("inet6", "icmpv6" or "58"), parsed into what the
// policy decides on (policy::RawSocketRequest): the wire's vocabulary stays at the edge.
#pragma once

#include <string_view>

#include "lib/core/result.h"
#include "netd/policy/raw_decision.h"

namespace netd::ops {

// family: "inet" | "inet6"; protocol: "icmp" | "icmpv6" | "udp" | "tcp" or a decimal number 0..255
// (digits only, no sign, no leading zero). Refused as InvalidArgument, with what socket(2) would
// say as errno: an unknown family (EAFNOSUPPORT), first; then any other protocol word
// (EPROTONOSUPPORT). Words are echoed bounded (errors.h echoed()).
Result<policy::RawSocketRequest> parse_raw_socket_request(std::string_view family, std::string_view protocol);

}  // namespace netd::ops
