// Small pieces for reading tc dumps (RTM_NEWQDISC / RTM_NEWTCLASS) by hand: libnl's parsed
// objects drop the 64-bit rates and the queue counters. No state.
#pragma once

#include <linux/gen_stats.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>

#include "netd/kernel/netlink/nl_socket.h"

namespace netd::kernel::tc {

// Copies a fixed-size kernel struct out of `attr`; false when the attribute is missing or
// shorter than the struct (an older or odd kernel: the field is then left as it was).
template <typename T>
bool read_struct(const nlattr* attr, T* out) {
  if (attr == nullptr || nla_len(attr) < static_cast<int>(sizeof(T))) return false;
  memcpy(out, nla_data(attr), sizeof(T));
  return true;
}

// A dump request of `type` (RTM_GETQDISC, RTM_GETTCLASS) for one device: with
// NETLINK_GET_STRICT_CHK the kernel sends only that device's objects.
inline NlMessage dump_request(int type, int ifindex) {
  nl_msg* msg = nlmsg_alloc_simple(type, NLM_F_DUMP);
  tcmsg tcm{};
  tcm.tcm_family = AF_UNSPEC;
  tcm.tcm_ifindex = ifindex;
  nlmsg_append(msg, &tcm, sizeof tcm, NLMSG_ALIGNTO);
  return NlMessage(msg);
}

// TCA_KIND as a string ("" when missing).
inline std::string kind_of(nlattr** tb) {
  if (tb[TCA_KIND] == nullptr) return "";
  const auto* text = static_cast<const char*>(nla_data(tb[TCA_KIND]));
  return std::string(text, strnlen(text, static_cast<size_t>(nla_len(tb[TCA_KIND]))));
}

// Buffers that the kernel keeps as the time they last at the rate, in psched ticks (64 ns),
// back to bytes at `rate_bytes` per second.
inline uint32_t ticks_to_bytes(uint32_t ticks, uint64_t rate_bytes) {
  long double ns = static_cast<long double>(ticks) * 64;
  return static_cast<uint32_t>(ns * static_cast<long double>(rate_bytes) / 1e9L + 0.5L);
}

// The counters of TCA_STATS2, as `tc -s` shows them.
struct Counters {
  uint64_t bytes = 0;
  uint64_t packets = 0;
  uint64_t drops = 0;
  uint64_t overlimits = 0;
  uint64_t requeues = 0;
  uint64_t backlog = 0;  // bytes queued now
  uint64_t qlen = 0;     // packets queued now
};

Counters counters_of(nlattr** tb);

// Dumps the qdiscs of `ifindex` and calls `on_root` with the root qdisc's header and parsed
// attributes (tb indexed by TCA_*); not at all when the device shows none (a device that
// was never up has the invisible noop qdisc). `what` prefixes errors.
Status dump_root_qdisc(NlSocket& sock, int ifindex, const std::string& what,
                       const std::function<void(const tcmsg& tcm, nlattr** tb)>& on_root);

}  // namespace netd::kernel::tc
