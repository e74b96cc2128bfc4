// Accounting: the logged packets of one interval summed per slice and, when asked, per flow.
// Pure: packets in, a Report out.
#pragma once

#include <compare>
#include <cstdint>
#include <map>

#include "lib/core/net_types.h"
#include "tools/flowmon/nflog.h"

namespace flowmon {

// How a mark names a slice, as netd's FlowLog reply says: id = (mark & mask) >> shift
// (0: no slice's packet).
struct MarkLayout {
  uint32_t mask = 0;
  int shift = 0;
  uint32_t slice_of(uint32_t mark) const { return (mark & mask) >> shift; }
};

struct Counter {
  uint64_t packets = 0;
  uint64_t bytes = 0;
};

struct Traffic {
  Counter in;   // arrived on an uplink
  Counter out;  // left by an uplink
};

// Both directions of a flow under one key, seen from the host: for a leaving packet the source
// is local, for an arriving one the destination is.
struct FlowKey {
  uint32_t slice = 0;
  uint8_t protocol = 0;
  netd::IpAddress local;
  uint16_t local_port = 0;
  netd::IpAddress remote;
  uint16_t remote_port = 0;
  friend auto operator<=>(const FlowKey&, const FlowKey&) = default;
  friend bool operator==(const FlowKey&, const FlowKey&) = default;
};

struct Report {
  std::map<uint32_t, Traffic> slices;  // by slice id
  std::map<FlowKey, Traffic> flows;    // only when flows are kept
  uint64_t non_ip = 0;                 // logged packets with no IP header (counted per slice too)
};

class Tally {
 public:
  Tally(MarkLayout layout, bool keep_flows) : layout_(layout), keep_flows_(keep_flows) {}
  void add(const LoggedPacket& packet);
  // The interval's report; the tally starts over.
  Report take();

 private:
  MarkLayout layout_;
  bool keep_flows_;
  Report current_;
};

}  // namespace flowmon
