// Where IPFIX records go: --ipfix HOST:PORT, read without any I/O (a name is resolved by the
// exporter when it sends).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lib/core/result.h"

namespace flowmon {

struct Collector {
  std::string host;  // an IPv4 address, an IPv6 address (no brackets) or a host name
  uint16_t port = 0;
  std::string to_string() const;  // "host:port", "[v6]:port"
};

// "192.0.2.1:4739", "[2001:db8::1]:4739", "collector.example:4739". EINVAL naming what is
// wrong: no port, a port outside 1..65535, an IPv6 address without brackets, a bad name.
netd::Result<Collector> parse_collector(std::string_view text);

}  // namespace flowmon
