// What a flow monitor needs from the start of a logged packet (NFLOG copies the first bytes
// only): addresses, protocol, ports, and the packet's real length from its IP header.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "lib/core/net_types.h"

namespace flowmon {

struct PacketHeader {
  netd::IpAddress src;
  netd::IpAddress dst;
  uint8_t protocol = 0;  // IPPROTO_*; for IPv6 the first header after the fixed one
  // TCP/UDP/SCTP ports; for ICMP/ICMPv6 echo requests and replies the identifier, as
  // source port of a request and destination port of a reply (so both directions of a
  // ping key the same flow); otherwise 0.
  uint16_t sport = 0;
  uint16_t dport = 0;
  uint32_t length = 0;  // IPv4 total length / IPv6 40 + payload length (not the copied bytes)
  uint8_t tcp_flags = 0;  // TCP's flag byte (FIN 0x01 .. CWR 0x80) when copied; else 0
};

// The header of an IPv4 or IPv6 packet (as NFLOG gives it: from the network header on), or
// nullopt when the bytes are too short or not IP. Ports are left 0 when the copied bytes end
// before them, and for IPv6 packets whose next header is an extension header.
std::optional<PacketHeader> parse_packet(std::span<const uint8_t> bytes);

// "tcp", "udp", "icmp", "icmpv6", "sctp", "hopopt", else the number.
std::string protocol_name(uint8_t protocol);

}  // namespace flowmon
