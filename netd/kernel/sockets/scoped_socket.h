// Sockets netd opens for a slice and hands over: raw IP and AF_PACKET sockets that carry the
// slice's mark (with the raw flag) and an eBPF receive filter the holder cannot remove.
//
// The holder keeps what the kernel checks only at socket(): it may re-bind, set IP_HDRINCL,
// PACKET_QDISC_BYPASS or promiscuous mode. What it receives stays scoped by the locked
// filter; what it sends is fenced in netfilter by the raw flag in the mark (NetdNftTable).
#pragma once

#include <cstdint>

#include "lib/core/result.h"
#include "lib/core/unique_fd.h"

namespace netd::kernel {

// SOCK_RAW in AF_INET/AF_INET6 for `protocol` (IPPROTO_ICMP, ...), close-on-exec, with SO_MARK
// `mark` and `filter_prog` attached and locked (attach_locked_filter, which also drains what
// a raw socket queued before its filter).
Result<UniqueFd> open_raw_ip_socket(int domain, int protocol, uint32_t mark, int filter_prog);

// AF_PACKET SOCK_RAW receiving `ethertype` (host order; ETH_P_ALL = every protocol) on
// `ifindex` (0: every device). Made with protocol 0, so nothing is queued until the bind,
// which comes after the mark and the locked filter.
Result<UniqueFd> open_packet_socket(uint16_t ethertype, int ifindex, uint32_t mark, int filter_prog);

}  // namespace netd::kernel
