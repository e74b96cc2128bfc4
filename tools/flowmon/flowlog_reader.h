// Reading what is queued on the flow log socket, for both of netd-flowmon's modes: the packets
// to a sink, the kernel's overruns (ENOBUFS: messages dropped) counted, and from the packets'
// sequence numbers how many packets they cost.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "tools/flowmon/nflog.h"

namespace flowmon {

constexpr int kReadsPerWakeup = 64;       // then the timer and signals get their turn
constexpr int kReadsWhenStopping = 4096;  // the backlog at a stop signal, bounded under a flood

// Packets the kernel dropped, from the gaps in NFLOG's per-instance sequence numbers. The
// instance is made when netd binds the socket for this reader, so counting starts at 0: packets
// dropped before the first read count too. A packet without a number (an older netd) leaves the
// count as it is. Pure, for tests.
class SequenceGaps {
 public:
  // The packets missing before this one.
  uint64_t see(std::optional<uint32_t> seq) {
    if (!seq) return 0;
    uint32_t missing = *seq - next_;  // modulo 2^32: the counter wraps
    next_ = *seq + 1;
    return missing;
  }

 private:
  uint32_t next_ = 0;
};

class FlowLogReader {
 public:
  explicit FlowLogReader(int socket);
  // At most max_reads recv()s of what is queued now, each logged packet to `sink`; 0, or the
  // errno that ends the monitor.
  int drain(int max_reads, const std::function<void(const LoggedPacket&)>& sink);
  // Whether the last drain() read the socket empty (EAGAIN) rather than stopping at max_reads.
  bool emptied() const { return emptied_; }
  // Overruns (ENOBUFS errors) since the last call.
  uint64_t take_overruns();
  // Packets they cost since the last call (0 when netd sends no sequence numbers).
  uint64_t take_lost();

 private:
  int socket_;
  std::vector<uint8_t> buffer_;
  SequenceGaps gaps_;
  uint64_t overruns_ = 0;
  uint64_t lost_ = 0;
  bool emptied_ = false;
};

}  // namespace flowmon
