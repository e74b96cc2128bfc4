#include "netd/kernel/netlink/tc_messages.h"

#include <linux/pkt_sched.h>

namespace netd::kernel::tc {

Counters counters_of(nlattr** tb) {
  Counters c;
  if (tb[TCA_STATS2] == nullptr) return c;
  nlattr* stats[TCA_STATS_MAX + 1] = {};
  if (nla_parse_nested(stats, TCA_STATS_MAX, tb[TCA_STATS2], nullptr) < 0) return c;
  gnet_stats_basic basic;
  if (read_struct(stats[TCA_STATS_BASIC], &basic)) {
    c.bytes = basic.bytes;
    c.packets = basic.packets;
  }
  // 64-bit packet counts where the kernel has them.
  if (stats[TCA_STATS_PKT64] != nullptr) c.packets = nla_get_u64(stats[TCA_STATS_PKT64]);
  gnet_stats_queue queue;
  if (read_struct(stats[TCA_STATS_QUEUE], &queue)) {
    c.drops = queue.drops;
    c.overlimits = queue.overlimits;
    c.requeues = queue.requeues;
    c.backlog = queue.backlog;
    c.qlen = queue.qlen;
  }
  return c;
}

Status dump_root_qdisc(NlSocket& sock, int ifindex, const std::string& what,
                       const std::function<void(const tcmsg& tcm, nlattr** tb)>& on_root) {
  auto collect = [&](nlmsghdr* hdr) {
    if (hdr->nlmsg_type != RTM_NEWQDISC) return;
    const auto* tcm = static_cast<const tcmsg*>(nlmsg_data(hdr));
    if (tcm->tcm_ifindex != ifindex || tcm->tcm_parent != TC_H_ROOT) return;
    nlattr* tb[TCA_MAX + 1] = {};
    if (nlmsg_parse(hdr, sizeof(tcmsg), tb, TCA_MAX, nullptr) < 0) return;
    on_root(*tcm, tb);
  };
  return sock.dump(dump_request(RTM_GETQDISC, ifindex), what, collect);
}

}  // namespace netd::kernel::tc
