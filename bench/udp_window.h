// One window of unconnected or connected UDP sends from a forked child placed as a client
// (ClientPlace: netns, cgroup, uid): datagrams per second once the sender is in place. The
// benchmarks that compare per-packet costs of the host's send path (scale_bench, datapath_bench)
// share it.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "bench/bench_testbed.h"
#include "bench/udp_sender.h"

namespace bench {

// What a forked sender counts, in memory shared with it (make_sender_shm: MAP_SHARED).
struct SenderShm {
  std::atomic<uint64_t> sent{0};
  std::atomic<int> stop{0};
};
// A SenderShm in anonymous shared memory (nullptr after a note); release with free_sender_shm.
SenderShm* make_sender_shm();
void free_sender_shm(SenderShm* shm);

// `stream` sent from `place` for `seconds` (its mark set from place.mark): datagrams per second
// over the window, counted from when the sender is in place. nullopt after a note prefixed
// with `part` (a sender that could not start or died).
std::optional<double> udp_window(const ClientPlace& place, UdpStream stream, double seconds, const std::string& part,
                                 const std::string& who, SenderShm* shm);

}  // namespace bench
