// Reading the flow log: the NFLOG netlink messages netd's group delivers (one recv() may hold
// several), parsed with libmnl into what each logged packet says.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tools/flowmon/packet.h"

namespace flowmon {

struct LoggedPacket {
  std::optional<uint8_t> hook;  // NFULA_PACKET_HDR: the netfilter hook that logged it
  uint32_t mark = 0;    // NFULA_MARK (the kernel leaves it out when the mark is 0)
  uint32_t indev = 0;   // NFULA_IFINDEX_INDEV, 0 when absent
  uint32_t outdev = 0;  // NFULA_IFINDEX_OUTDEV, 0 when absent
  std::string prefix;   // NFULA_PREFIX (netd's rules set none)
  std::optional<PacketHeader> header;  // from NFULA_PAYLOAD, when it is IP
  uint32_t payload_bytes = 0;          // bytes copied (netd copies at most 128)
  // NFULA_SEQ: the group instance's count of packets logged before this one (netd asks for it;
  // a gap is packets the kernel dropped, absent from an older netd).
  std::optional<uint32_t> seq;

  // netd logs leaving packets at postrouting and arriving ones at prerouting (which have no
  // output device yet).
  bool outgoing() const;
  // What the packet weighed on the wire, as far as its IP header says.
  uint32_t length() const { return header ? header->length : payload_bytes; }
};

// Every NFULNL_MSG_PACKET in `buffer`, in order, to `sink`; other messages (errors, acks) are
// skipped, and so is anything after a truncated message. Nothing is allocated per packet: this
// runs for every packet crossing an uplink.
void for_each_nflog(std::span<const uint8_t> buffer, const std::function<void(const LoggedPacket&)>& sink);
// The same, collected (tests, the fuzzer).
std::vector<LoggedPacket> parse_nflog(std::span<const uint8_t> buffer);

}  // namespace flowmon
