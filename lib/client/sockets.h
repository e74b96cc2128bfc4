// io.netd.Sockets from the client side: raw IP, packet and capture sockets and the flow log, created
// by netd for the caller's slice (marked, filtered to the slice's own packets, filter locked) and
// returned as real fds (close-on-exec). A Varlink refusal becomes an Error with netd's errno and
// "error-name: reason"; a reply that does not carry exactly one fd is EPROTO (extra fds are closed).
#pragma once

#include <optional>
#include <string>

#include "lib/client/client.h"
#include "lib/core/result.h"
#include "lib/core/unique_fd.h"

namespace netd {

// socket(domain, SOCK_RAW, protocol) for the slice: domain AF_INET / AF_INET6, protocol IPPROTO_ICMP
// (AF_INET), IPPROTO_ICMPV6 (AF_INET6), IPPROTO_UDP or IPPROTO_TCP, as the policy's `raw` allows.
// Another domain is EAFNOSUPPORT, a protocol outside 0..255 EPROTONOSUPPORT, before anything is sent;
// other protocol numbers go to netd, which refuses them.
Result<UniqueFd> raw_socket(Client& client, int domain, int protocol);

// socket(AF_PACKET, SOCK_RAW, protocol) for the slice: protocol as given to socket(2), an ethertype in
// network byte order (htons(ETH_P_ALL)); 0 receives nothing until bind() names a protocol, as in
// socket(2). ifname empty: all devices, else
// bound to that device (not another slice's vif).
Result<UniqueFd> packet_socket(Client& client, int protocol_network_order, const std::string& ifname);

// Monitors (capture_all) only: an AF_PACKET socket receiving everything on one uplink.
Result<UniqueFd> capture_socket(Client& client, const std::string& ifname);

// Monitors only: a NETLINK_NETFILTER socket bound to the slice's NFLOG group; *group (may be null)
// gets the group number. Each message's NFULA_MARK names the slice: id = (mark & mark_mask) >>
// mark_shift, which the FlowLog reply also carries.
Result<UniqueFd> flowlog_socket(Client& client, int* group);

// The IDL's words for the numbers (exposed for the C API and tests): AF_INET → "inet", AF_INET6 →
// "inet6", else nullopt; IPPROTO_ICMP → "icmp", IPPROTO_ICMPV6 → "icmpv6", IPPROTO_UDP → "udp",
// IPPROTO_TCP → "tcp", other 0..255 → the decimal number, else nullopt.
std::optional<std::string> raw_family_word(int domain);
std::optional<std::string> raw_protocol_word(int protocol);

}  // namespace netd
