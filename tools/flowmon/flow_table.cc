#include "tools/flowmon/flow_table.h"

#include <algorithm>
#include <cstring>
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

size_t FlowIdHash::operator()(const FlowId& id) const noexcept {
  // splitmix64's finalizer over the words of the id: cheap, and every input bit reaches every
  // output bit, so ids that differ in one port or one address byte spread.
  auto mix = [](uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    return h;
  };
  uint64_t words[4];
  std::memcpy(words, id.src.bytes(), 16);
  std::memcpy(words + 2, id.dst.bytes(), 16);
  uint64_t h = static_cast<uint64_t>(id.slice) << 32 | static_cast<uint64_t>(id.sport) << 16 | id.dport;
  h = mix(h, static_cast<uint64_t>(id.protocol) << 8 | static_cast<uint64_t>(id.direction) |
                 static_cast<uint64_t>(id.src.family()) << 16);
  for (uint64_t w : words) h = mix(h, w);
  return static_cast<size_t>(h);
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
