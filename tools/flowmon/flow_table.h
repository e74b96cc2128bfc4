// The open flows of an IPFIX probe: packets summed per unidirectional flow (5-tuple, direction
// across the uplink, slice), cut by an active and an idle timeout. Pure: the caller passes the
// time (ms since the epoch, as IPFIX's flowStart/EndMilliseconds), so tests need no clock.
#pragma once

#include <compare>
#include <cstdint>
#include <unordered_map>
#include <optional>
#include <vector>

#include "lib/core/net_types.h"
#include "tools/flowmon/nflog.h"
#include "tools/flowmon/tally.h"

namespace flowmon {

// IPFIX flowDirection (IE 61) values: 0 ingress, 1 egress, as seen on the uplink.
enum class Direction : uint8_t { kIn = 0, kOut = 1 };

// One record per flow per direction (not biflows): a reply is a flow of its own, with the
// addresses the other way round.
struct FlowId {
  uint32_t slice = 0;
  Direction direction = Direction::kOut;
  uint8_t protocol = 0;
  netd::IpAddress src;
  netd::IpAddress dst;
  uint16_t sport = 0;
  uint16_t dport = 0;
  friend auto operator<=>(const FlowId&, const FlowId&) = default;
  friend bool operator==(const FlowId&, const FlowId&) = default;
};

struct FlowCounts {
  uint64_t packets = 0;
  uint64_t octets = 0;    // IP lengths (IPv4 total length, IPv6 40 + payload length)
  uint64_t first_ms = 0;  // first and last packet
  uint64_t last_ms = 0;
  uint8_t tcp_flags = 0;  // OR of every packet's
};

// For the table's hash map: every field of the id, mixed (a lookup per packet; a std::map's
// ordered compares of two 16-byte addresses cost more than one hash and one equality).
struct FlowIdHash {
  size_t operator()(const FlowId& id) const noexcept;
};

struct FlowRecord {
  FlowId id;
  FlowCounts counts;
};

struct FlowTimeouts {
  uint64_t active_ms = 1800 * 1000;  // a flow open this long is exported and starts over
  uint64_t idle_ms = 15 * 1000;      // a flow without a packet this long is exported
};

// The flow a logged packet belongs to; nullopt when it is not IP (nothing to key it by).
std::optional<FlowId> flow_of(const LoggedPacket& packet, const MarkLayout& layout);

class FlowTable {
 public:
  explicit FlowTable(FlowTimeouts timeouts) : timeouts_(timeouts) {}

  void add(const FlowId& id, uint32_t octets, uint8_t tcp_flags, uint64_t now_ms);
  // The flows idle for idle_ms, or open for active_ms, at now_ms: removed and returned. A flow
  // cut by the active timeout goes on as a new record at its next packet.
  std::vector<FlowRecord> expire(uint64_t now_ms);
  // Every open flow (at exit). Records come in no particular order.
  std::vector<FlowRecord> flush();
  size_t size() const { return flows_.size(); }

 private:
  FlowTimeouts timeouts_;
  std::unordered_map<FlowId, FlowCounts, FlowIdHash> flows_;
};

}  // namespace flowmon
