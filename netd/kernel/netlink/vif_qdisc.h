// VifQdiscExecutor: the root qdisc of one device, as a slice may have it on its own vif: a TBF,
// or an HTB whose one default class takes all the traffic (HtbExecutor). Over rtnetlink
// (libnl-route); thin: no policy, no bookkeeping (the kernel is the state: a vif's qdisc goes
// with the vif).
//
// Handles are fixed and differ by kind, so that a replace of one kind by the other is a
// single create-and-graft in the kernel (the old root keeps the traffic until the new one
// takes it), while a replace by the same kind changes the qdisc in place: the kernel refuses
// to change a qdisc into another kind under the same handle ("Invalid qdisc name").
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "lib/core/result.h"
#include "netd/kernel/netlink/htb.h"
#include "netd/kernel/netlink/nl_socket.h"
#include "netd/kernel/netlink/tc_messages.h"

namespace netd::kernel {

inline constexpr uint32_t kVifHtbMajor = 1;         // htb 1:, its class 1:1 is the default
inline constexpr uint32_t kVifHtbClassMinor = 1;
inline constexpr uint32_t kVifTbfMajor = 2;         // tbf 2:

struct TbfSpec {
  uint64_t rate_bps = 0;
  uint32_t burst_bytes = 0;
  uint32_t limit_bytes = 0;  // the queue behind the bucket
};

// A device's root qdisc as the kernel reports it.
struct VifQdiscState {
  std::string kind;  // "tbf", "htb", or the device's default ("pfifo_fast", "noqueue", "mq")
  uint32_t handle = 0;  // 0 for the device's default qdisc
  std::optional<TbfSpec> tbf;              // kind tbf
  std::optional<HtbClassState> htb_class;  // kind htb: class 1:1, if it exists
  tc::Counters counters;
};

class VifQdiscExecutor {
 public:
  explicit VifQdiscExecutor(NlSocket& sock) : sock_(sock), htb_(sock) {}

  // Makes the root a TBF (handle 2:) with these values, replacing whatever root was there.
  // `name` only appears in errors.
  Status replace_tbf(int ifindex, const std::string& name, const TbfSpec& spec);
  // Makes the root an HTB 1: whose default class 1:1 has rate = ceil = rate_bps. An HTB that
  // is netd's already keeps its class (changed in place: counters stay). If the class cannot
  // be made under a root made here, the root is deleted again (the device falls back to its
  // default qdisc): never an HTB without its class, which would pass everything unshaped.
  Status replace_htb(int ifindex, const std::string& name, uint64_t rate_bps);
  // Deletes the root qdisc, whatever it is: the device gets its default qdisc back. ENOENT if
  // it has only that already.
  Status remove_root(int ifindex, const std::string& name);
  // The root qdisc. A device that was never up reports none: that is kind "noop", handle 0.
  Result<VifQdiscState> root(int ifindex, const std::string& name);

 private:
  NlSocket& sock_;
  HtbExecutor htb_;
};

}  // namespace netd::kernel
