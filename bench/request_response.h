// TCP request/response (TCP_RR): 64 B each way over one connection with TCP_NODELAY, every
// transaction timed in a forked client, against an echo server made in another netns.
// shape_in_bench (a slice's latency while another downloads) and scale_bench (latency with N
// slices' routing rules) use it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_support.h"
#include "bench/bench_testbed.h"
#include "tests/fixtures/netns.h"

namespace bench {

inline constexpr size_t kRrMessage = 64;  // bytes of each request and each response

// The echo server: a forked child serving one connection at a time on a socket made in `ns`
// (the child itself stays in ours), bound to addr:port ("0.0.0.0": every address), 64 B back
// for every 64 B. Stopped by SIGTERM when the RunningChild goes. nullopt after a note.
// cpu >= 0: it runs on that CPU only.
std::optional<RunningChild> start_echo(const netd::testing::Netns& ns, const char* addr, uint16_t port, int cpu = -1);

// Transactions for `seconds` from a forked client at `place` (its socket marked if place.mark)
// to addr:port: µs each, or nullopt after a note `<who> exited N` (the child says why on
// stderr, `# <who>: ...`).
std::optional<std::vector<double>> request_response(const ClientPlace& place, const char* addr, uint16_t port,
                                                    double seconds, const std::string& who);

}  // namespace bench
