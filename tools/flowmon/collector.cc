#include "tools/flowmon/collector.h"

#include <cerrno>
#include <charconv>

#include "lib/core/net_types.h"

namespace flowmon {

namespace {

netd::Error bad(std::string_view text, std::string_view why) {
  return netd::make_error(EINVAL, "'--ipfix' needs HOST:PORT, got '" + std::string(text) + "': " + std::string(why));
}

// Letters, digits, '-' and '.', as DNS names (and IPv4 addresses) are written.
bool plain_name(std::string_view host) {
  if (host.empty() || host.size() > 253 || host.front() == '-' || host.front() == '.') return false;
  for (char c : host)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
      return false;
  return true;
}

}  // namespace

std::string Collector::to_string() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<Transport> parse_transport(std::string_view word) {
  if (word == "udp") return Transport::kUdp;
  if (word == "tcp") return Transport::kTcp;
  return std::nullopt;
}

std::string_view transport_name(Transport transport) { return transport == Transport::kTcp ? "tcp" : "udp"; }

netd::Result<Collector> parse_collector(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad(text, "no port");
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  Collector collector;
  if (host.starts_with('[')) {
    if (!host.ends_with(']')) return bad(text, "'[' without ']'");
    host = host.substr(1, host.size() - 2);
    auto address = netd::IpAddress::parse(host);
    if (!address.ok() || address->is_v4()) return bad(text, "not an IPv6 address in brackets");
  } else if (host.find(':') != std::string_view::npos) {
    return bad(text, "an IPv6 address needs brackets, as in [2001:db8::1]:4739");
  } else if (!plain_name(host)) {
    return bad(text, host.empty() ? "no host" : "not an address or host name");
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535)
    return bad(text, "the port must be 1..65535");
  collector.host = std::string(host);
  collector.port = static_cast<uint16_t>(port);
  return collector;
}

}  // namespace flowmon
