// What netd holds, as the load test and benchmark compare it before, during and after load:
// its open fds, its resident memory (VmRSS of /proc/PID/status) and the CPU it has used.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

#include "tests/integration/common/testbed.h"

namespace netd::testing {

struct NetdUsage {
  size_t fds = 0;
  uint64_t rss_kib = 0;   // 0 if it could not be read
  double cpu_seconds = 0;  // user + system since netd started
};

NetdUsage netd_usage(const Testbed& bed);

// How far netd's RSS may be above its idle value once the clients of a load round are gone,
// the idle value being taken after a similar round (a warm-up). A leak grows with the requests;
// glibc's allocator does not, but it keeps freed memory resident: netd's heap is one arena whose
// freed chunks stay in its bins, trimmed only from its top, so a page inside the heap that a
// request touched for the first time stays resident after it was freed. How many pages a round
// touches follows its peak working set, which varies with the draw: how many vifs exist at once
// (up to 2 per client: libnl's objects, the nft batch, the BPF map diffs all grow with them).
// Measured with 8 rounds of 64 x 200 requests on one netd: malloc_stats()'s "in use bytes" flat
// (488 592 to 493 584 bytes) and the heap's size flat after the first round, while VmRSS rose by
// 0 to 340 KiB a round (464 KiB in one run of the test). 1 MiB is above that and holds a leak of
// 82 bytes per request of the test's round (12 800 requests); over the benchmark's 640 000
// requests, 1.6 bytes per request.
inline constexpr uint64_t kRssToleranceKib = 1024;

}  // namespace netd::testing
