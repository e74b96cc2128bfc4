#include "tools/flowmon/tally.h"

#include <utility>

namespace flowmon {

namespace {

void count(Traffic& traffic, bool outgoing, uint32_t bytes) {
  Counter& c = outgoing ? traffic.out : traffic.in;
  ++c.packets;
  c.bytes += bytes;
}

}  // namespace

void Tally::add(const LoggedPacket& packet) {
  const uint32_t slice = layout_.slice_of(packet.mark);
  const bool out = packet.outgoing();
  count(current_.slices[slice], out, packet.length());
  if (!packet.header) {
    ++current_.non_ip;
    return;
  }
  if (!keep_flows_) return;
  const PacketHeader& h = *packet.header;
  FlowKey key;
  key.slice = slice;
  key.protocol = h.protocol;
  if (out) {
    key.local = h.src, key.local_port = h.sport, key.remote = h.dst, key.remote_port = h.dport;
  } else {
    key.local = h.dst, key.local_port = h.dport, key.remote = h.src, key.remote_port = h.sport;
  }
  count(current_.flows[key], out, packet.length());
}

Report Tally::take() { return std::exchange(current_, Report{}); }

}  // namespace flowmon
