// Pure decision for a qdisc on a slice's own vif (`sliceip qdisc`): which
// kinds and which values netd installs. Ownership of the device is decide_vif_owner's; this
// checks the request against the device's facts (mtu, tun or tap) that the operation layer
// gathered. No syscalls.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lib/core/result.h"

namespace netd::policy {

enum class QdiscKind : uint8_t { kTbf, kHtb };

const char* qdisc_kind_name(QdiscKind kind);  // "tbf" / "htb"
// The request's word, parsed where the request is read: anything but "tbf" or "htb" is
// InvalidArgument naming it ("qdisc kind 'fq_codel' is not offered: ...").
Result<QdiscKind> parse_qdisc_kind(std::string_view word);

// io.netd.Qdiscs.Replace as the parser read it. Every value is optional here, so that the
// decision can say which one is missing or does not belong to the kind.
struct QdiscRequest {
  QdiscKind kind = QdiscKind::kTbf;
  std::optional<uint64_t> rate_bps;
  std::optional<uint64_t> burst_bytes;  // tbf
  std::optional<uint64_t> latency_us;   // tbf, or limit
  std::optional<uint64_t> limit_bytes;  // tbf, or latency
};

// The vif the qdisc goes on.
struct QdiscDevice {
  std::string name;  // for messages
  uint32_t mtu = 0;
  bool tap = false;  // its packets carry a 14-byte Ethernet header the qdisc counts
};

// What to install. Every value is within the limits below.
struct QdiscPlan {
  QdiscKind kind = QdiscKind::kTbf;
  uint64_t rate_bps = 0;     // htb: the one class's rate, which is also its ceil
  uint32_t burst_bytes = 0;   // tbf
  uint32_t limit_bytes = 0;   // tbf: as given, or rate × latency + burst as tc-tbf(8) computes it
};

// Rates: from 8 kbit/s (1 kB/s: a full frame per 1.5 s) to 10 Gbit/s, which is more than a
// tun/tap moves and fits libnl's TBF rate (a signed 32-bit count of bytes per second).
inline constexpr uint64_t kMinQdiscRateBps = 8'000;
inline constexpr uint64_t kMaxQdiscRateBps = 10'000'000'000;
// The kernel keeps TBF's bucket as the time it lasts at the rate, in nanoseconds, and clamps
// it to 32 bits (about 4.29 s) without a word: a bigger burst would silently shrink.
inline constexpr uint64_t kMaxTbfBucketNs = UINT32_MAX;
// TBF's queue (limit) is kernel memory the slice can fill: bounded per device.
inline constexpr uint64_t kMaxQdiscQueueBytes = 32ULL << 20;
// latency: from 1 ms to 10 s.
inline constexpr uint64_t kMinTbfLatencyUs = 1'000;
inline constexpr uint64_t kMaxTbfLatencyUs = 10'000'000;

// The request → what to install, or InvalidArgument naming the field and why:
// - tbf: rate, burst, and latency or limit (exactly one of the two). burst holds at
//   least one full packet of the device (mtu, plus the Ethernet header on a tap: TBF drops
//   bigger packets for good) and at most kMaxTbfBucketNs of the rate; limit (given or from
//   latency) at least one full packet and at most kMaxQdiscQueueBytes;
// - htb: rate only. The device's traffic goes to one class, which has no sibling to lend it
//   anything, so a ceil above the rate would never be reached (measured: rate 5mbit ceil
//   10mbit moves 5 Mbit/s); netd sizes the class's buffers itself (see htb_burst_bytes).
Result<QdiscPlan> decide_vif_qdisc(const QdiscRequest& request, const QdiscDevice& device);

}  // namespace netd::policy
