// Reading what is queued on the flow log socket, for both of netd-flowmon's modes: the packets
// to a sink, the kernel's overruns (ENOBUFS: messages dropped) counted.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "tools/flowmon/nflog.h"

namespace flowmon {

constexpr int kReadsPerWakeup = 64;       // then the timer and signals get their turn
constexpr int kReadsWhenStopping = 4096;  // the backlog at a stop signal, bounded under a flood

class FlowLogReader {
 public:
  explicit FlowLogReader(int socket);
  // At most max_reads recv()s of what is queued now, each logged packet to `sink`; 0, or the
  // errno that ends the monitor.
  int drain(int max_reads, const std::function<void(const LoggedPacket&)>& sink);
  // Overruns since the last call.
  uint64_t take_overruns();

 private:
  int socket_;
  std::vector<uint8_t> buffer_;
  uint64_t overruns_ = 0;
};

}  // namespace flowmon
