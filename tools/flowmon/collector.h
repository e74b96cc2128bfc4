// Where IPFIX records go: --ipfix HOST:PORT, read without any I/O (a name is resolved by the
// exporter when it sends).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lib/core/result.h"

namespace flowmon {

// UDP: datagrams, templates sent again on a schedule (RFC 7011 10.3.6). TCP: one stream, the
// templates once at the start of each connection (10.4).
enum class Transport { kUdp, kTcp };

struct Collector {
  std::string host;  // an IPv4 address, an IPv6 address (no brackets) or a host name
  uint16_t port = 0;
  Transport transport = Transport::kUdp;  // --transport, not part of HOST:PORT
  std::string to_string() const;  // "host:port", "[v6]:port"
};

// "udp" / "tcp" (--transport's words); nullopt for anything else.
std::optional<Transport> parse_transport(std::string_view word);
std::string_view transport_name(Transport transport);

// "192.0.2.1:4739", "[2001:db8::1]:4739", "collector.example:4739". EINVAL naming what is
// wrong: no port, a port outside 1..65535, an IPv6 address without brackets, a bad name.
netd::Result<Collector> parse_collector(std::string_view text);

}  // namespace flowmon
