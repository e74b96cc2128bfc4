// HtbExecutor: the kernel's HtbControl (the HTB root qdisc and per-slice classes of an
// uplink) over rtnetlink (libnl-route). Thin: no policy, no bookkeeping. Classification is
// not done here: no filters are ever added; ShapeClassifier's egress program writes the
// classid into skb->priority and HTB picks the class from it (one map lookup per packet, no
// filter list).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "lib/core/result.h"
#include "netd/kernel/netlink/htb_control.h"
#include "netd/kernel/netlink/nl_socket.h"

namespace netd::kernel {

// The root qdisc of a device, whatever its kind.
struct RootQdisc {
  std::string kind;  // "htb", "noqueue", "pfifo_fast", ...
  uint32_t handle = 0;
  uint32_t default_minor = 0;  // htb only
};

// The buffers set_class gives a class of rate `rate_bps`: enough tokens for one timer
// period's worth of traffic at that rate, and never less than 10 full frames. Exposed for
// tests and benchmarks.
uint32_t htb_burst_bytes(uint64_t rate_bps);
// DRR quantum (how much a class may send per round when borrowing): rate/10 like the
// kernel's r2q default, but clamped to [one frame, 200000] explicitly so the kernel never
// warns "quantum is big/small" and never clamps on its own.
uint32_t htb_quantum(uint64_t rate_bps);

class HtbExecutor : public HtbControl {
 public:
  explicit HtbExecutor(NlSocket& sock) : sock_(sock) {}

  Status ensure_root(int ifindex, uint32_t handle_major, uint32_t default_minor) override;
  Status remove_root(int ifindex, uint32_t handle_major) override;
  Result<std::optional<RootQdisc>> root(int ifindex);

  Status set_class(int ifindex, uint32_t classid, uint64_t rate_bps, uint64_t ceil_bps,
                   uint32_t parent_classid = 0) override;
  Status remove_class(int ifindex, uint32_t classid) override;
  Status set_leaf_bfifo(int ifindex, uint32_t classid, uint32_t limit_bytes) override;
  Result<std::vector<HtbClassState>> classes(int ifindex) override;
  Result<std::optional<HtbClassState>> find_class(int ifindex, uint32_t classid) override;

 private:
  NlSocket& sock_;
};

}  // namespace netd::kernel
