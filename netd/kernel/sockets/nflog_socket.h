// A netlink socket bound to one NFLOG group, for a monitor to read the attribution stream:
// netd binds and configures it (that needs CAP_NET_ADMIN, checked per message), then hands
// it over. The holder can only read: every further configuration message it sends is
// refused (EPERM), so it cannot move to another group.
#pragma once

#include <cstdint>

#include "lib/core/result.h"
#include "lib/core/unique_fd.h"

namespace netd::kernel {

struct NflogOptions {
  uint16_t group = 0;
  uint32_t copy_range = 128;  // bytes of each packet copied (headers for flow accounting)
  uint32_t queue_threshold = 64;  // packets per netlink message (fewer recv()s; nft's rule says the same)
  // Bytes of one netlink message: 64 records of ~230 bytes (128 copied + attributes) fit; the
  // kernel's default (a page) holds ~16.
  uint32_t buffer_size = 32768;
  uint32_t flush_timeout_cs = 1;  // 1/100 s: a partial batch waits at most this long
  int receive_buffer = 4 << 20;   // SO_RCVBUFFORCE: bursts must not overrun the reader
};

// EBUSY when another socket already holds the group (one reader per group).
Result<UniqueFd> open_nflog_socket(const NflogOptions& options);

}  // namespace netd::kernel
