// The collector end of flowmon_bench: a UDP socket on 127.0.0.1:PORT in a network namespace
// that takes the flow records a probe exports and decodes them here (IPFIX from netd-flowmon,
// NetFlow v5 from softflowd), summing the packets of UDP flows by destination port. It only
// reads what arrives (no files, no nfcapd), so the export is never what limits a probe.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "lib/core/result.h"
#include "lib/core/unique_fd.h"
#include "tests/fixtures/netns.h"

namespace bench {

enum class FlowFormat { kIpfix, kNetflowV5 };

// What the records of one probe run add up to.
struct FlowTotals {
  std::map<uint16_t, uint64_t> udp_packets;  // by destination port
  uint64_t records = 0;                      // data records decoded (any protocol)
  uint64_t datagrams = 0;
  uint64_t malformed = 0;  // datagrams that did not decode
  // The packets of the UDP flows to ports first .. first + count - 1.
  uint64_t packets_to(uint16_t first, int count) const;
};

class FlowSink {
 public:
  // A socket bound to 127.0.0.1:port inside `ns` (it stays there; we do not).
  static netd::Result<FlowSink> open(const netd::testing::Netns& ns, uint16_t port, FlowFormat format);

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Drops whatever is queued (what a run cut short left).
  void discard();
  // Reads and decodes datagrams until none came for quiet_ms, or max_ms passed, or the run is
  // interrupted. Each call starts with no templates: a probe sends them again with its last records.
  FlowTotals collect(int quiet_ms, int max_ms);

 private:
  FlowSink(netd::UniqueFd fd, uint16_t port, FlowFormat format) : fd_(std::move(fd)), port_(port), format_(format) {}
  netd::UniqueFd fd_;
  uint16_t port_;
  FlowFormat format_;
};

}  // namespace bench
