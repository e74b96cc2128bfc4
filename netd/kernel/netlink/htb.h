// HtbExecutor: the HTB root qdisc and per-slice classes of an uplink over rtnetlink
// (libnl-route). Thin: no policy, no bookkeeping. Classification is not done here: no
// filters are ever added; ShapeClassifier's egress program writes the classid into
// skb->priority and HTB picks the class from it (one map lookup per packet, no filter list).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "lib/core/result.h"
#include "netd/kernel/netlink/nl_socket.h"

namespace netd::kernel {

// A class as the kernel reports it. Rates in bit/s (HTB counts L2 bytes: the Ethernet
// header is shaped, FCS/preamble are not); buffers in bytes.
struct HtbClassState {
  uint32_t classid = 0;  // major:minor, e.g. 0x10010 = 1:10 (tc reads minors as hex)
  uint32_t parent = 0;  // TC_H_ROOT for the qdisc's own children (HTB reports them so)
  uint64_t rate_bps = 0;
  uint64_t ceil_bps = 0;
  uint32_t burst_bytes = 0;
  uint32_t cburst_bytes = 0;
  uint32_t quantum = 0;
  uint64_t bytes = 0;  // sent by the class since it was made
  uint64_t packets = 0;
};

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

class HtbExecutor {
 public:
  explicit HtbExecutor(NlSocket& sock) : sock_(sock) {}

  // Makes the device's root qdisc an HTB with handle `handle_major`: and default class
  // `handle_major:default_minor`. Nothing is sent if that is already so (its classes and
  // their counters survive); otherwise the root is replaced (an HTB with another handle or
  // default loses its classes). default_minor must not be 0 (HTB_DIRECT: unshaped).
  Status ensure_root(int ifindex, uint32_t handle_major, uint32_t default_minor);
  // Deletes the root qdisc if it is an HTB with handle `handle_major`: (the device falls
  // back to its default qdisc). Any other root is left alone; so is no root at all.
  Status remove_root(int ifindex, uint32_t handle_major);
  Result<std::optional<RootQdisc>> root(int ifindex);

  // Adds class `classid` under `parent_classid` (0: the root qdisc itself; classid's major
  // must be the HTB handle's, and so must the parent's), or changes its rate/ceil in place
  // (same class: counters and queued packets survive; HTB cannot move a class to another
  // parent, so the parent of an existing class is not changed). ceil_bps 0 means ceil = rate.
  // Minor 0 and ceil < rate are refused. A class borrows up to its ceil only from a parent
  // class: classes directly under the qdisc never send more than their rate.
  Status set_class(int ifindex, uint32_t classid, uint64_t rate_bps, uint64_t ceil_bps,
                   uint32_t parent_classid = 0);
  // Deletes the class; a class that does not exist is fine.
  Status remove_class(int ifindex, uint32_t classid);
  // Every HTB class of the device.
  Result<std::vector<HtbClassState>> classes(int ifindex);

 private:
  NlSocket& sock_;
};

}  // namespace netd::kernel
