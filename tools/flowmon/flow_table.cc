#include "tools/flowmon/flow_table.h"

#include <algorithm>
#include <utility>

namespace flowmon {

std::optional<FlowId> flow_of(const LoggedPacket& packet, const MarkLayout& layout) {
  if (!packet.header) return std::nullopt;
  const PacketHeader& h = *packet.header;
  return FlowId{.slice = layout.slice_of(packet.mark),
                .direction = packet.outgoing() ? Direction::kOut : Direction::kIn,
                .protocol = h.protocol,
                .src = h.src,
                .dst = h.dst,
                .sport = h.sport,
                .dport = h.dport};
}

void FlowTable::add(const FlowId& id, uint32_t octets, uint8_t tcp_flags, uint64_t now_ms) {
  auto [it, added] = flows_.try_emplace(id);
  FlowCounts& c = it->second;
  if (added) c.first_ms = now_ms;
  ++c.packets;
  c.octets += octets;
  c.last_ms = std::max(c.last_ms, now_ms);
  c.tcp_flags |= tcp_flags;
}

std::vector<FlowRecord> FlowTable::expire(uint64_t now_ms) {
  std::vector<FlowRecord> done;
  for (auto it = flows_.begin(); it != flows_.end();) {
    const FlowCounts& c = it->second;
    bool idle = now_ms >= c.last_ms + timeouts_.idle_ms;
    bool active_too_long = now_ms >= c.first_ms + timeouts_.active_ms;
    if (idle || active_too_long) {
      done.push_back({it->first, it->second});
      it = flows_.erase(it);
    } else {
      ++it;
    }
  }
  return done;
}

std::vector<FlowRecord> FlowTable::flush() {
  std::vector<FlowRecord> done;
  done.reserve(flows_.size());
  for (auto& [id, counts] : flows_) done.push_back({id, counts});
  flows_.clear();
  return done;
}

}  // namespace flowmon
