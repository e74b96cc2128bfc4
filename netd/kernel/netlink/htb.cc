#include "netd/kernel/netlink/htb.h"

#include <linux/gen_stats.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/route/class.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/fifo.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/tc.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>

#include "netd/kernel/netlink/tc_messages.h"
#include "netd/kernel/netlink/tc_objects.h"

namespace netd::kernel {
namespace {

using tc::kind_of;
using tc::read_struct;
using tc::ticks_to_bytes;

using tc::ClassPtr;
using tc::libnl_error;
using tc::QdiscPtr;

constexpr uint32_t kFrameBytes = 1514;  // a full Ethernet frame at MTU 1500, as HTB counts it
// Debian's kernels run at HZ=250: when the HTB watchdog or a softirq is late, it is late by up
// to a tick, and the tokens of that tick must fit in the bucket or the time is lost for good
// (tc's default burst, rate/1e9 + MTU with hrtimers, loses ~8 % at 1 Gbit that way).
constexpr uint64_t kTimerHz = 250;
constexpr uint32_t kMinBurstFrames = 10;
constexpr uint32_t kMaxQuantum = 200000;  // above this the kernel warns and clamps

std::string handle_text(uint32_t h) {
  char buf[32];
  snprintf(buf, sizeof buf, "%x:%x", h >> 16, h & 0xffff);
  return buf;
}

std::string on_dev(int ifindex) { return " on ifindex " + std::to_string(ifindex); }

// A qdisc under a class (the leaf of an HTB class). Only visible leaves are reported: HTB's
// own default pfifo has handle 0 and is not dumped.
struct LeafQdisc {
  std::string kind;
  uint32_t limit = 0;  // bfifo only: bytes
};

// The device's leaf qdiscs by parent classid.
Result<std::map<uint32_t, LeafQdisc>> leaf_qdiscs(NlSocket& sock, int ifindex) {
  std::map<uint32_t, LeafQdisc> leaves;
  auto collect = [&](nlmsghdr* hdr) {
    if (hdr->nlmsg_type != RTM_NEWQDISC) return;
    const auto* tcm = static_cast<const tcmsg*>(nlmsg_data(hdr));
    // Leaves hang under a class (major and minor set); not the root, ingress or clsact.
    if (tcm->tcm_ifindex != ifindex || tcm->tcm_parent == TC_H_ROOT || TC_H_MAJ(tcm->tcm_parent) == TC_H_INGRESS ||
        TC_H_MIN(tcm->tcm_parent) == 0)
      return;
    nlattr* tb[TCA_MAX + 1] = {};
    if (nlmsg_parse(hdr, sizeof(tcmsg), tb, TCA_MAX, nullptr) < 0) return;
    LeafQdisc leaf{kind_of(tb), 0};
    tc_fifo_qopt fifo;
    if (leaf.kind == "bfifo" && read_struct(tb[TCA_OPTIONS], &fifo)) leaf.limit = fifo.limit;
    leaves[tcm->tcm_parent] = leaf;
  };
  NETD_TRY(sock.dump(tc::dump_request(RTM_GETQDISC, ifindex), "listing qdiscs" + on_dev(ifindex), collect));
  return leaves;
}

}  // namespace

uint32_t htb_burst_bytes(uint64_t rate_bps) {
  uint64_t per_tick = rate_bps / 8 / kTimerHz;
  return static_cast<uint32_t>(std::clamp<uint64_t>(per_tick, uint64_t{kMinBurstFrames} * kFrameBytes, UINT32_MAX));
}

uint32_t htb_quantum(uint64_t rate_bps) {
  return static_cast<uint32_t>(std::clamp<uint64_t>(rate_bps / 8 / 10, kFrameBytes, kMaxQuantum));
}

Result<std::optional<RootQdisc>> HtbExecutor::root(int ifindex) {
  std::optional<RootQdisc> found;
  NETD_TRY(tc::dump_root_qdisc(sock_, ifindex, "listing qdiscs" + on_dev(ifindex), [&](const tcmsg& tcm, nlattr** tb) {
    RootQdisc q{kind_of(tb), tcm.tcm_handle, 0};
    if (q.kind == "htb" && tb[TCA_OPTIONS] != nullptr) {
      nlattr* opts[TCA_HTB_MAX + 1] = {};
      tc_htb_glob glob;
      if (nla_parse_nested(opts, TCA_HTB_MAX, tb[TCA_OPTIONS], nullptr) == 0 &&
          read_struct(opts[TCA_HTB_INIT], &glob)) {
        q.default_minor = glob.defcls;
      }
    }
    found = q;
  }));
  return found;
}

Status HtbExecutor::ensure_root(int ifindex, uint32_t handle_major, uint32_t default_minor) {
  const uint32_t handle = handle_major << 16;
  const std::string what =
      "making HTB root " + handle_text(handle) + " default " + handle_text(handle | default_minor) + on_dev(ifindex);
  if (handle_major == 0 || handle_major >= 0xffff || default_minor == 0 || default_minor > 0xffff)
    return make_error(EINVAL, what + ": handle and default minor must be 1..0xfffe / 1..0xffff");
  NETD_ASSIGN_OR_RETURN(std::optional<RootQdisc> current, root(ifindex));
  if (current && current->kind == "htb" && current->handle == handle && current->default_minor == default_minor)
    return ok_status();
  // HTB cannot change its default in place (no change op in 6.1), and a replace with the
  // same handle would be a change: delete our own root first, then create.
  if (current && current->kind == "htb" && current->handle == handle) NETD_TRY(remove_root(ifindex, handle_major));

  NETD_ASSIGN_OR_RETURN(QdiscPtr q, tc::root_qdisc(ifindex, handle, what));
  if (int err = rtnl_tc_set_kind(TC_CAST(q.get()), "htb"); err < 0) return libnl_error(err, what);
  // The minor only: the kernel makes the classid from the qdisc's own major.
  if (int err = rtnl_htb_set_defcls(q.get(), default_minor); err < 0) return libnl_error(err, what);
  // Quantums are always set per class, so r2q only keeps libnl from sending 0.
  if (int err = rtnl_htb_set_rate2quantum(q.get(), 10); err < 0) return libnl_error(err, what);
  nl_msg* raw = nullptr;
  if (int err = rtnl_qdisc_build_add_request(q.get(), NLM_F_CREATE | NLM_F_REPLACE, &raw); err < 0)
    return libnl_error(err, what);
  return sock_.request(NlMessage(raw), what);
}

Status HtbExecutor::remove_root(int ifindex, uint32_t handle_major) {
  const uint32_t handle = handle_major << 16;
  const std::string what = "deleting HTB root " + handle_text(handle) + on_dev(ifindex);
  NETD_ASSIGN_OR_RETURN(std::optional<RootQdisc> current, root(ifindex));
  if (!current || current->kind != "htb" || current->handle != handle) return ok_status();
  NETD_ASSIGN_OR_RETURN(QdiscPtr q, tc::root_qdisc(ifindex, handle, what));
  nl_msg* raw = nullptr;
  if (int err = rtnl_qdisc_build_delete_request(q.get(), &raw); err < 0) return libnl_error(err, what);
  return sock_.request(NlMessage(raw), what);
}

Status HtbExecutor::set_class(int ifindex, uint32_t classid, uint64_t rate_bps, uint64_t ceil_bps,
                              uint32_t parent_classid) {
  if (ceil_bps == 0) ceil_bps = rate_bps;
  const std::string what = "setting HTB class " + handle_text(classid) + on_dev(ifindex);
  if (TC_H_MIN(classid) == 0 || TC_H_MAJ(classid) == 0 || TC_H_MAJ(classid) == TC_H_ROOT)
    return make_error(EINVAL, what + ": the classid needs a major and a minor other than 0");
  if (parent_classid != 0 && (TC_H_MAJ(parent_classid) != TC_H_MAJ(classid) || TC_H_MIN(parent_classid) == 0 ||
                              parent_classid == classid))
    return make_error(EINVAL, what + ": the parent " + handle_text(parent_classid) +
                                  " must be another class of the same qdisc");
  if (rate_bps < 8 || ceil_bps < rate_bps) return make_error(EINVAL, what + ": rate must be ≥ 8 bit/s and ≤ ceil");
  ClassPtr cls(rtnl_class_alloc());
  if (!cls) return make_error(ENOMEM, what + ": out of memory");
  rtnl_tc* tc = TC_CAST(cls.get());
  rtnl_tc_set_ifindex(tc, ifindex);
  rtnl_tc_set_parent(tc, parent_classid != 0 ? parent_classid : TC_H_MAJ(classid));
  rtnl_tc_set_handle(tc, classid);
  if (int err = rtnl_tc_set_kind(tc, "htb"); err < 0) return libnl_error(err, what);
  // libnl takes bytes per second.
  int err = rtnl_htb_set_rate64(cls.get(), rate_bps / 8);
  if (err == 0) err = rtnl_htb_set_ceil64(cls.get(), ceil_bps / 8);
  // Buffers explicitly: libnl's defaults (rate/HZ + MTU with its clock) are about one frame.
  if (err == 0) err = rtnl_htb_set_rbuffer(cls.get(), htb_burst_bytes(rate_bps));
  if (err == 0) err = rtnl_htb_set_cbuffer(cls.get(), htb_burst_bytes(ceil_bps));
  if (err == 0) err = rtnl_htb_set_quantum(cls.get(), htb_quantum(rate_bps));
  if (err < 0) return libnl_error(err, what);
  nl_msg* raw = nullptr;
  // NLM_F_CREATE without EXCL/REPLACE: an existing class is changed in place (same class
  // object in the kernel, so counters and queued packets stay), a missing one is created.
  if (err = rtnl_class_build_add_request(cls.get(), NLM_F_CREATE, &raw); err < 0) return libnl_error(err, what);
  return sock_.request(NlMessage(raw), what);
}

Status HtbExecutor::remove_class(int ifindex, uint32_t classid) {
  const std::string what = "deleting HTB class " + handle_text(classid) + on_dev(ifindex);
  ClassPtr cls(rtnl_class_alloc());
  if (!cls) return make_error(ENOMEM, what + ": out of memory");
  rtnl_tc* tc = TC_CAST(cls.get());
  rtnl_tc_set_ifindex(tc, ifindex);
  rtnl_tc_set_parent(tc, TC_H_MAJ(classid));
  rtnl_tc_set_handle(tc, classid);
  nl_msg* raw = nullptr;
  if (int err = rtnl_class_build_delete_request(cls.get(), &raw); err < 0) return libnl_error(err, what);
  Status deleted = sock_.request(NlMessage(raw), what);
  // Gone already (or its qdisc is): what the caller wanted.
  if (!deleted.ok() && (deleted.error().code == ENOENT || deleted.error().code == EINVAL)) {
    NETD_ASSIGN_OR_RETURN(auto left, classes(ifindex));
    bool present = std::any_of(left.begin(), left.end(), [&](const HtbClassState& c) { return c.classid == classid; });
    if (!present) return ok_status();
  }
  return deleted;
}

Status HtbExecutor::set_leaf_bfifo(int ifindex, uint32_t classid, uint32_t limit_bytes) {
  const std::string what = "making the leaf of HTB class " + handle_text(classid) + " a bfifo of " +
                           std::to_string(limit_bytes) + " bytes" + on_dev(ifindex);
  if (TC_H_MIN(classid) == 0 || TC_H_MAJ(classid) == 0 || TC_H_MAJ(classid) == TC_H_ROOT)
    return make_error(EINVAL, what + ": the classid needs a major and a minor other than 0");
  // libnl takes the limit as an int.
  if (limit_bytes == 0 || limit_bytes > INT32_MAX) return make_error(EINVAL, what + ": limit must be 1..2^31-1");
  QdiscPtr q(rtnl_qdisc_alloc());
  if (!q) return make_error(ENOMEM, what + ": out of memory");
  rtnl_tc* tc = TC_CAST(q.get());
  rtnl_tc_set_ifindex(tc, ifindex);
  rtnl_tc_set_parent(tc, classid);
  if (int err = rtnl_tc_set_kind(tc, "bfifo"); err < 0) return libnl_error(err, what);
  if (int err = rtnl_qdisc_fifo_set_limit(q.get(), static_cast<int>(limit_bytes)); err < 0)
    return libnl_error(err, what);
  nl_msg* raw = nullptr;
  // Handle 0 with CREATE|REPLACE: a bfifo already under the class is changed in place, any
  // other leaf is replaced by a new bfifo with a handle the kernel picks (as `tc qdisc replace`).
  if (int err = rtnl_qdisc_build_add_request(q.get(), NLM_F_CREATE | NLM_F_REPLACE, &raw); err < 0)
    return libnl_error(err, what);
  return sock_.request(NlMessage(raw), what);
}

namespace {

// An RTM_NEWTCLASS message of an HTB class of `ifindex`, as HtbClassState (leaf limit 0).
std::optional<HtbClassState> parse_htb_class(nlmsghdr* hdr, int ifindex) {
  if (hdr->nlmsg_type != RTM_NEWTCLASS) return std::nullopt;
  auto* tcm = static_cast<const tcmsg*>(nlmsg_data(hdr));
  if (tcm->tcm_ifindex != ifindex) return std::nullopt;
  nlattr* tb[TCA_MAX + 1] = {};
  if (nlmsg_parse(hdr, sizeof(tcmsg), tb, TCA_MAX, nullptr) < 0 || kind_of(tb) != "htb") return std::nullopt;
  HtbClassState st;
  st.classid = tcm->tcm_handle;
  st.parent = tcm->tcm_parent;
  if (tb[TCA_OPTIONS] != nullptr) {
    nlattr* opts[TCA_HTB_MAX + 1] = {};
    tc_htb_opt p;
    if (nla_parse_nested(opts, TCA_HTB_MAX, tb[TCA_OPTIONS], nullptr) == 0 &&
        read_struct(opts[TCA_HTB_PARMS], &p)) {
      // Rates of 2^32 B/s and more come in the 64-bit attributes.
      uint64_t rate = opts[TCA_HTB_RATE64] != nullptr ? nla_get_u64(opts[TCA_HTB_RATE64]) : p.rate.rate;
      uint64_t ceil = opts[TCA_HTB_CEIL64] != nullptr ? nla_get_u64(opts[TCA_HTB_CEIL64]) : p.ceil.rate;
      st.rate_bps = rate * 8;
      st.ceil_bps = ceil * 8;
      st.burst_bytes = ticks_to_bytes(p.buffer, rate);
      st.cburst_bytes = ticks_to_bytes(p.cbuffer, ceil);
      st.quantum = p.quantum;
    }
  }
  const tc::Counters counters = tc::counters_of(tb);
  st.bytes = counters.bytes;
  st.packets = counters.packets;
  return st;
}

}  // namespace

Result<std::optional<HtbClassState>> HtbExecutor::find_class(int ifindex, uint32_t classid) {
  const std::string what = "reading class " + handle_text(classid) + on_dev(ifindex);
  // A get, not a dump: tcm_handle names the class, its major the qdisc (parent unspecified).
  // The kernel answers a class get as a notification, sent back to the asker only with
  // NLM_F_ECHO (without it nothing comes back and the read would wait forever).
  nl_msg* msg = nlmsg_alloc_simple(RTM_GETTCLASS, NLM_F_ECHO);
  NlMessage owner(msg);
  tcmsg tcm{};
  tcm.tcm_family = AF_UNSPEC;
  tcm.tcm_ifindex = ifindex;
  tcm.tcm_handle = classid;
  nlmsg_append(msg, &tcm, sizeof tcm, NLMSG_ALIGNTO);
  std::optional<HtbClassState> found;
  auto collect = [&](nlmsghdr* hdr) {
    if (auto st = parse_htb_class(hdr, ifindex); st && st->classid == classid) found = st;
  };
  Status asked = sock_.dump(owner, what, collect);
  // ENOENT: no such class, or no qdisc of that major on the device.
  if (!asked.ok() && asked.error().code == ENOENT) return std::optional<HtbClassState>();
  NETD_TRY(std::move(asked));
  return found;
}

Result<std::vector<HtbClassState>> HtbExecutor::classes(int ifindex) {
  std::vector<HtbClassState> out;
  auto collect = [&](nlmsghdr* hdr) {
    if (auto st = parse_htb_class(hdr, ifindex)) out.push_back(*st);
  };
  NETD_TRY(sock_.dump(tc::dump_request(RTM_GETTCLASS, ifindex), "listing classes" + on_dev(ifindex), collect));
  if (!out.empty()) {
    NETD_ASSIGN_OR_RETURN(auto leaves, leaf_qdiscs(sock_, ifindex));
    for (HtbClassState& c : out)
      if (auto it = leaves.find(c.classid); it != leaves.end()) c.leaf_limit_bytes = it->second.limit;
  }
  std::sort(out.begin(), out.end(),
            [](const HtbClassState& a, const HtbClassState& b) { return a.classid < b.classid; });
  return out;
}

}  // namespace netd::kernel
