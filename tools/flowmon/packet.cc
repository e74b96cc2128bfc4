#include "tools/flowmon/packet.h"

#include <netinet/in.h>
#include <sys/socket.h>


namespace flowmon {

namespace {

uint16_t get16(std::span<const uint8_t> b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }

constexpr uint8_t kIcmpEchoReply = 0, kIcmpEchoRequest = 8;
constexpr uint8_t kIcmp6EchoRequest = 128, kIcmp6EchoReply = 129;

// Ports of the transport header at `at`, when the copied bytes hold them.
void read_ports(std::span<const uint8_t> b, size_t at, PacketHeader& h) {
  switch (h.protocol) {
    case IPPROTO_TCP:
      if (b.size() >= at + 14) h.tcp_flags = b[at + 13];
      [[fallthrough]];
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE:
    case IPPROTO_SCTP:
      if (b.size() < at + 4) return;
      h.sport = get16(b, at);
      h.dport = get16(b, at + 2);
      return;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6: {
      if (b.size() < at + 6) return;
      uint8_t type = b[at];
      uint16_t id = get16(b, at + 4);
      bool request = type == (h.protocol == IPPROTO_ICMP ? kIcmpEchoRequest : kIcmp6EchoRequest);
      bool reply = type == (h.protocol == IPPROTO_ICMP ? kIcmpEchoReply : kIcmp6EchoReply);
      if (request) h.sport = id;
      if (reply) h.dport = id;
      return;
    }
    default:
      return;
  }
}

}  // namespace

std::optional<PacketHeader> parse_packet(std::span<const uint8_t> b) {
  if (b.empty()) return std::nullopt;
  PacketHeader h;
  switch (b[0] >> 4) {
    case 4: {
      size_t ihl = static_cast<size_t>(b[0] & 0x0f) * 4;
      if (b.size() < 20 || ihl < 20) return std::nullopt;
      h.length = get16(b, 2);
      h.protocol = b[9];
      h.src = netd::IpAddress::from_bytes(AF_INET, &b[12]);
      h.dst = netd::IpAddress::from_bytes(AF_INET, &b[16]);
      bool later_fragment = (get16(b, 6) & 0x1fff) != 0;  // no transport header in it
      if (!later_fragment) read_ports(b, ihl, h);
      return h;
    }
    case 6:
      if (b.size() < 40) return std::nullopt;
      h.length = 40u + get16(b, 4);
      h.protocol = b[6];
      h.src = netd::IpAddress::from_bytes(AF_INET6, &b[8]);
      h.dst = netd::IpAddress::from_bytes(AF_INET6, &b[24]);
      read_ports(b, 40, h);
      return h;
    default:
      return std::nullopt;
  }
}

std::string protocol_name(uint8_t protocol) {
  switch (protocol) {
    case IPPROTO_TCP: return "tcp";
    case IPPROTO_UDP: return "udp";
    case IPPROTO_ICMP: return "icmp";
    case IPPROTO_ICMPV6: return "icmpv6";
    case IPPROTO_SCTP: return "sctp";
    case IPPROTO_HOPOPTS: return "hopopt";  // IPv6 hop-by-hop options first (MLD reports)
    default: break;
  }
  return std::to_string(protocol);
}

}  // namespace flowmon
