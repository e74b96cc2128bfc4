// A UDP sender (and the port a captured frame was sent to) for the benchmarks that measure packet capture under a flood (raw_bench rx,
// exec_bench tcpdump, flowmon_bench): small datagrams to one peer port (or to a run of ports, one
// flow each), as fast as one process goes or paced at a steady rate, counted in shared memory so
// the parent reads the figures live.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "lib/core/result.h"

namespace bench {

constexpr int kUdpPayload = 64;  // UDP payload bytes (small frames: a packet rate, not a bit rate)

struct UdpStream {
  const char* peer;  // IPv4 address to send to
  uint16_t port;     // destination port; the source port is port + 1000 (who sent it, on the wire)
  int pps = 0;       // 0: as fast as it goes; else paced in batches on an absolute clock
  uint64_t count = 0;  // 0: until *stop; else exactly this many datagrams sent (unless *stop)
  // Flows (distinct destination ports port .. port + flows - 1), one datagram to each in turn so
  // a flow table sees them interleaved; 1: a connected socket to `port` alone.
  int flows = 1;
  // One flow sent unconnected all the same: every datagram carries its destination (msg_name),
  // so the kernel looks its route up per datagram instead of using the connected socket's.
  bool unconnected = false;
  uint32_t mark = 0;  // SO_MARK on the socket (0: none; needs CAP_NET_ADMIN)
};

// Sends `stream` from the calling process (already in its netns, cgroup and uid), adding what
// was sent to *sent, until *stop is non-zero or `count` is reached. An error only if the socket
// could not be set up.
// The UDP destination port of an Ethernet frame carrying IPv4 (0: not UDP over IPv4, or cut
// short before the port): how the capture benchmarks tell senders apart.
uint16_t udp_dport(const unsigned char* frame, size_t len);

netd::Status send_udp(const UdpStream& stream, std::atomic<uint64_t>* sent, const std::atomic<int>* stop);

}  // namespace bench
