#include "netd/kernel/netlink/vif_qdisc.h"

#include <linux/pkt_sched.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>

#include <algorithm>
#include <memory>

#include "lib/core/errors.h"
#include "netd/kernel/netlink/tc_objects.h"

namespace netd::kernel {
namespace {

using tc::libnl_error;
using tc::QdiscPtr;
using tc::root_qdisc;

TbfSpec tbf_of(nlattr* options) {
  TbfSpec spec;
  nlattr* opts[TCA_TBF_MAX + 1] = {};
  tc_tbf_qopt qopt;
  if (nla_parse_nested(opts, TCA_TBF_MAX, options, nullptr) < 0 || !tc::read_struct(opts[TCA_TBF_PARMS], &qopt))
    return spec;
  // Rates of 2^32 B/s and more come in the 64-bit attribute.
  uint64_t rate_bytes = opts[TCA_TBF_RATE64] != nullptr ? nla_get_u64(opts[TCA_TBF_RATE64]) : qopt.rate.rate;
  spec.rate_bps = rate_bytes * 8;
  spec.burst_bytes = tc::ticks_to_bytes(qopt.buffer, rate_bytes);
  spec.limit_bytes = qopt.limit;
  return spec;
}

}  // namespace

Status VifQdiscExecutor::replace_tbf(int ifindex, const std::string& name, const TbfSpec& spec) {
  const std::string what = "making tbf the root qdisc of " + name;
  // libnl takes the rate as an int of bytes per second (the decision keeps it under 10 Gbit/s).
  if (spec.rate_bps / 8 == 0 || spec.rate_bps / 8 > INT32_MAX || spec.burst_bytes > INT32_MAX ||
      spec.limit_bytes > INT32_MAX)
    return make_error(EINVAL, what + ": rate, burst or limit out of libnl's range");
  NETD_ASSIGN_OR_RETURN(QdiscPtr q, root_qdisc(ifindex, TC_HANDLE(kVifTbfMajor, 0), what));
  if (int err = rtnl_tc_set_kind(TC_CAST(q.get()), "tbf"); err < 0) return libnl_error(err, what);
  rtnl_qdisc_tbf_set_rate(q.get(), static_cast<int>(spec.rate_bps / 8), static_cast<int>(spec.burst_bytes), 0);
  rtnl_qdisc_tbf_set_limit(q.get(), static_cast<int>(spec.limit_bytes));
  nl_msg* raw = nullptr;
  // CREATE|REPLACE: our own tbf 2: is changed in place; any other root is swapped for a new
  // one in one step.
  if (int err = rtnl_qdisc_build_add_request(q.get(), NLM_F_CREATE | NLM_F_REPLACE, &raw); err < 0)
    return libnl_error(err, what);
  return sock_.request(NlMessage(raw), what);
}

Status VifQdiscExecutor::replace_htb(int ifindex, const std::string& name, uint64_t rate_bps) {
  NETD_ASSIGN_OR_RETURN(std::optional<RootQdisc> before, htb_.root(ifindex));
  const uint32_t major = kVifHtbMajor;
  bool ours_already = before && before->kind == "htb" && before->handle == TC_HANDLE(major, 0) &&
                      before->default_minor == kVifHtbClassMinor;
  const std::string what = "making htb the root qdisc of " + name;
  if (Status st = htb_.ensure_root(ifindex, major, kVifHtbClassMinor); !st.ok())
    return std::move(st).error().with_context(what);
  // rate = ceil: the class has no sibling to borrow from, so a higher ceil is never reached.
  Status made = htb_.set_class(ifindex, TC_HANDLE(major, kVifHtbClassMinor), rate_bps, rate_bps);
  if (made.ok()) return made;
  Error failed = std::move(made).error().with_context(what);
  if (ours_already) return failed;
  return with_undo(std::move(failed), htb_.remove_root(ifindex, major), "an HTB root without its class on " + name);
}

Status VifQdiscExecutor::remove_root(int ifindex, const std::string& name) {
  const std::string what = "deleting the root qdisc of " + name;
  NETD_ASSIGN_OR_RETURN(VifQdiscState current, root(ifindex, name));
  // Handle 0 is the device's default qdisc, which the kernel does not delete.
  if (current.handle == 0)
    return make_error(ENOENT, name + " has no root qdisc to delete (it has its default, " + current.kind + ")");
  NETD_ASSIGN_OR_RETURN(QdiscPtr q, root_qdisc(ifindex, current.handle, what));
  nl_msg* raw = nullptr;
  if (int err = rtnl_qdisc_build_delete_request(q.get(), &raw); err < 0) return libnl_error(err, what);
  return sock_.request(NlMessage(raw), what);
}

Result<VifQdiscState> VifQdiscExecutor::root(int ifindex, const std::string& name) {
  std::optional<VifQdiscState> found;
  auto on_root = [&](const tcmsg& tcm, nlattr** tb) {
    VifQdiscState state;
    state.kind = tc::kind_of(tb);
    state.handle = tcm.tcm_handle;
    state.counters = tc::counters_of(tb);
    if (state.kind == "tbf" && tb[TCA_OPTIONS] != nullptr) state.tbf = tbf_of(tb[TCA_OPTIONS]);
    found = std::move(state);
  };
  NETD_TRY(tc::dump_root_qdisc(sock_, ifindex, "listing the qdiscs of " + name, on_root));
  // A device that was never up has the invisible noop qdisc until it is (dumps skip it).
  if (!found) found = VifQdiscState{"noop", 0, std::nullopt, std::nullopt, {}};
  if (found->kind == "htb" && found->handle == TC_HANDLE(kVifHtbMajor, 0)) {
    NETD_ASSIGN_OR_RETURN(std::vector<HtbClassState> classes, htb_.classes(ifindex));
    auto it = std::find_if(classes.begin(), classes.end(), [](const HtbClassState& c) {
      return c.classid == TC_HANDLE(kVifHtbMajor, kVifHtbClassMinor);
    });
    if (it != classes.end()) found->htb_class = *it;
  }
  return std::move(found).value();
}

}  // namespace netd::kernel
