#include "netd/ops/socket_request.h"

#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <optional>

#include "lib/core/errors.h"

namespace netd::ops {
namespace {

constexpr int kMaxIpProtocol = 255;

// Decimal as a protocol number is written: digits only, no sign, no leading zero.
std::optional<int> parse_protocol_number(std::string_view text) {
  if (text.empty() || text.size() > 3 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  int value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  if (value > kMaxIpProtocol) return std::nullopt;
  return value;
}

std::optional<int> protocol_of_kind_name(std::string_view word) {
  using policy::RawKind;
  for (RawKind kind : {RawKind::kIcmp, RawKind::kIcmpv6, RawKind::kUdp, RawKind::kTcp})
    if (word == policy::raw_kind_name(kind)) return policy::raw_kind_protocol(kind);
  return std::nullopt;
}

}  // namespace

Result<policy::RawSocketRequest> parse_raw_socket_request(std::string_view family, std::string_view protocol) {
  policy::RawSocketRequest request;
  if (family == "inet")
    request.domain = AF_INET;
  else if (family == "inet6")
    request.domain = AF_INET6;
  else
    return invalid("family " + echoed(family) + " is not inet or inet6", EAFNOSUPPORT);
  std::optional<int> number = protocol_of_kind_name(protocol);
  if (!number) number = parse_protocol_number(protocol);
  if (!number)
    return invalid("protocol " + echoed(protocol) + " is not icmp, icmpv6, udp, tcp or a protocol number 0..255",
                   EPROTONOSUPPORT);
  request.protocol = *number;
  return request;
}

}  // namespace netd::ops
