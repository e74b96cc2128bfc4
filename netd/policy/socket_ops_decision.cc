#include "netd/policy/socket_ops_decision.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <climits>
#include <cstring>
#include <string>

#include "lib/core/errors.h"
#include "lib/core/hex.h"
#include "netd/policy/raw_decision.h"
#include "netd/policy/validate.h"

namespace netd::policy {
namespace {

std::string family_name(int family) {
  switch (family) {
    case AF_INET: return "AF_INET";
    case AF_INET6: return "AF_INET6";
    case AF_UNIX: return "AF_UNIX";
    case AF_PACKET: return "AF_PACKET";
    case AF_NETLINK: return "AF_NETLINK";
    default: return "family " + std::to_string(family);
  }
}

std::string type_name(int type) {
  switch (type) {
    case SOCK_STREAM: return "SOCK_STREAM";
    case SOCK_DGRAM: return "SOCK_DGRAM";
    case SOCK_RAW: return "SOCK_RAW";
    case SOCK_SEQPACKET: return "SOCK_SEQPACKET";
    default: return "type " + std::to_string(type);
  }
}

std::string port_list(const SliceSpec& slice) {
  std::string out;
  for (const PortRange& r : slice.bind_ports) out += (out.empty() ? "" : ", ") + format_port_range(r);
  return out.empty() ? "none" : out;
}

bool in_bind_ports(const SliceSpec& slice, uint16_t port) {
  for (const PortRange& r : slice.bind_ports)
    if (r.contains(port)) return true;
  return false;
}

// The address as the socket's family sees it ("10.0.1.1" on AF_INET, "::ffff:10.0.1.1" on
// AF_INET6), or why it does not fit.
Status check_bind_family(const SocketFacts& socket, const IpAddress& address) {
  if (address.family() == socket.domain) return ok_status();
  if (socket.domain == AF_INET6)
    return invalid("address " + address.to_string() + " is IPv4 but the socket is AF_INET6: give it as ::ffff:" +
                   address.to_string() + " (or bind an AF_INET socket)");
  return invalid("address " + address.to_string() + " is IPv6 but the socket is AF_INET");
}

}  // namespace

const char* socket_option_name(SocketOption option) {
  switch (option) {
    case SocketOption::kRcvBufForce:
      return "rcvbufforce";
    case SocketOption::kSndBufForce:
      return "sndbufforce";
    case SocketOption::kPriority:
      return "priority";
  }
  return "?";
}

Result<SocketOption> parse_socket_option(std::string_view word) {
  for (SocketOption o : {SocketOption::kRcvBufForce, SocketOption::kSndBufForce, SocketOption::kPriority})
    if (word == socket_option_name(o)) return o;
  return invalid("option '" + echoed(word) + "' is not offered: rcvbufforce, sndbufforce or priority");
}

Status decide_socket_owner(const Policy& policy, const SliceSpec& slice, uid_t caller, const SocketFacts& socket) {
  // One netd handed to the slice: root's, with the slice's raw socket mark.
  if (socket.owner == 0 && socket.mark == raw_socket_mark(policy, slice)) return ok_status();
  if (socket.owner != caller)
    return refused("the socket belongs to uid " + std::to_string(socket.owner) + ", not to uid " +
                   std::to_string(caller) + ": only the caller's own sockets are changed");
  const uint32_t mark = socket.mark & policy.netd.mark_mask;
  if (mark != policy.mark_of(slice))
    return refused("the socket carries mark " + hex(mark) + ", not slice " + slice.name + "'s (" +
                   hex(policy.mark_of(slice)) + "): it was made outside the slice");
  return ok_status();
}

Result<int> decide_socket_option(const SliceSpec& slice, SocketOption option, int64_t value) {
  const char* name = socket_option_name(option);
  if (value < 0) return invalid(std::string(name) + " " + std::to_string(value) + " is negative");
  if (option == SocketOption::kPriority) {
    if (value > slice.max_priority)
      return refused("priority " + std::to_string(value) + " is above slice " + slice.name + "'s max_priority (" +
                     std::to_string(slice.max_priority) + ")");
    return static_cast<int>(value);
  }
  if (static_cast<uint64_t>(value) > slice.max_sockbuf)
    return refused(std::string(name) + " " + std::to_string(value) + " is above slice " + slice.name +
                   "'s max_sockbuf (" + format_size_bytes(slice.max_sockbuf) + ")");
  // The kernel takes an int (and max_sockbuf may be 2 GiB, one more than an int holds).
  if (value > INT_MAX)
    return invalid(std::string(name) + " " + std::to_string(value) + " is more than the kernel takes (" +
                   std::to_string(INT_MAX) + ")");
  return static_cast<int>(value);
}

Result<BindRequest> parse_bind_request(std::string_view address, int64_t port) {
  auto parsed = IpAddress::parse(address);
  if (!parsed.ok()) return invalid("address '" + echoed(address) + "' is not an IP address");
  if (port < 1 || port > 65535) return invalid("port " + std::to_string(port) + " is not a port 1..65535");
  return BindRequest{*parsed, static_cast<uint16_t>(port)};
}

IpAddress bind_lookup_address(const IpAddress& address) {
  static constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (address.family() != AF_INET6 || std::memcmp(address.bytes(), kMappedPrefix, sizeof kMappedPrefix) != 0)
    return address;
  return IpAddress::from_bytes(AF_INET, address.bytes() + sizeof kMappedPrefix);
}

Result<uint32_t> decide_socket_bind(const Policy& policy, const SliceSpec& slice, uid_t caller,
                                    const SocketFacts& socket, uint64_t netd_netns, const BindRequest& request,
                                    const SliceSpec* vif_owner) {
  // The caller's untagged socket becomes the slice's; any other must be the caller's already.
  const bool untagged = socket.owner == caller && socket.mark == 0;
  if (!untagged) NETD_TRY(decide_socket_owner(policy, slice, caller, socket));
  if (socket.domain != AF_INET && socket.domain != AF_INET6)
    return invalid("a socket of " + family_name(socket.domain) +
                       " is not bound through netd: only AF_INET and AF_INET6 TCP and UDP sockets",
                   EOPNOTSUPP);
  if (socket.type != SOCK_STREAM && socket.type != SOCK_DGRAM)
    return invalid("a " + type_name(socket.type) +
                       " socket is not bound through netd: only TCP and UDP sockets (SOCK_STREAM, SOCK_DGRAM)",
                   EOPNOTSUPP);
  if (!(socket.type == SOCK_STREAM && socket.protocol == IPPROTO_TCP) &&
      !(socket.type == SOCK_DGRAM && socket.protocol == IPPROTO_UDP))
    return invalid("a " + type_name(socket.type) + " socket of protocol " + std::to_string(socket.protocol) +
                       " is not bound through netd: only TCP and UDP sockets",
                   EOPNOTSUPP);
  if (socket.netns_cookie != netd_netns)
    return refused("the socket was made in another network namespace than netd's: slice " + slice.name +
                   "'s bind_ports are ports of netd's");
  NETD_TRY(check_bind_family(socket, request.address));
  if (!in_bind_ports(slice, request.port))
    return refused("port " + std::to_string(request.port) + " is not in slice " + slice.name + "'s bind_ports (" +
                   port_list(slice) + ")");
  if (vif_owner != nullptr && vif_owner->id != slice.id && !request.address.is_unspecified())
    return refused("address " + request.address.to_string() + " is on a vif of slice " + vif_owner->name +
                   ": not slice " + slice.name + "'s to bind");
  return untagged ? policy.mark_of(slice) : 0u;
}

}  // namespace netd::policy
