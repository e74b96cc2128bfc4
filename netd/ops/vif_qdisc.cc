#include "netd/ops/vif_qdisc.h"

#include <cstdio>

#include "lib/core/errors.h"
#include "lib/varlink/schema.h"
#include "netd/ops/vif_request.h"
#include "netd/policy/qdisc_decision.h"
#include "netd/policy/vif_decision.h"

namespace netd::ops {
namespace {

Result<policy::QdiscRequest> parse_replace(const api::qdiscs::ReplaceIn& in) {
  policy::QdiscRequest r;
  NETD_ASSIGN_OR_RETURN(r.kind, policy::parse_qdisc_kind(in.kind));
  NETD_ASSIGN_OR_RETURN(r.rate_bps, varlink::to_u64("rate", in.rate));
  NETD_ASSIGN_OR_RETURN(r.burst_bytes, varlink::to_u64("burst", in.burst));
  NETD_ASSIGN_OR_RETURN(r.latency_us, varlink::to_u64("latency", in.latency));
  NETD_ASSIGN_OR_RETURN(r.limit_bytes, varlink::to_u64("limit", in.limit));
  return r;
}

std::string handle_text(uint32_t handle) {
  char buf[16];
  snprintf(buf, sizeof buf, "%x:", handle >> 16);
  return buf;
}

}  // namespace

Result<VifQdiscOps::OwnVif> VifQdiscOps::own_vif(const policy::SliceSpec& s, const std::string& dev) {
  NETD_ASSIGN_OR_RETURN(std::string name, parse_device_name(dev, "dev"));
  NETD_TRY(policy::decide_vif_owner(s, name));
  // netd alone makes devices named like the slice's vifs; one that vanished left the registry
  // with the notification of its removal.
  int ifindex = vifs_.ifindex_of(s, name);
  if (ifindex == 0) return device_not_found(name);
  return OwnVif{name, ifindex};
}

Result<nlohmann::json> VifQdiscOps::describe(const OwnVif& vif) {
  auto state = exec_.root(vif.ifindex, vif.name);
  if (!state.ok()) return kernel_error(std::move(state).error());
  nlohmann::json j = {{"dev", vif.name}, {"kind", state->kind}, {"handle", handle_text(state->handle)}};
  if (state->tbf) {
    j["rate"] = state->tbf->rate_bps;
    j["burst"] = state->tbf->burst_bytes;
    j["limit"] = state->tbf->limit_bytes;
  }
  if (state->htb_class) {
    j["rate"] = state->htb_class->rate_bps;
    j["burst"] = state->htb_class->burst_bytes;
  }
  const auto& c = state->counters;
  j.update({{"bytes", c.bytes},
            {"packets", c.packets},
            {"drops", c.drops},
            {"overlimits", c.overlimits},
            {"requeues", c.requeues},
            {"backlog", c.backlog},
            {"qlen", c.qlen}});
  return j;
}

Result<nlohmann::json> VifQdiscOps::replace(const policy::Policy&, const policy::SliceSpec& s,
                                            const api::qdiscs::ReplaceIn& in) {
  NETD_ASSIGN_OR_RETURN(policy::QdiscRequest request, parse_replace(in));
  NETD_ASSIGN_OR_RETURN(OwnVif vif, own_vif(s, in.dev));
  auto link = links_.state(vif.ifindex, vif.name);
  if (!link.ok()) return kernel_error(std::move(link).error());
  if (!link->tun) return kernel_error(make_error(EMEDIUMTYPE, vif.name + " is not a tun/tap device"));
  NETD_ASSIGN_OR_RETURN(policy::QdiscPlan plan,
                        policy::decide_vif_qdisc(request, {vif.name, link->mtu, link->tun->tap}));
  Status done = plan.kind == policy::QdiscKind::kTbf
                    ? exec_.replace_tbf(vif.ifindex, vif.name, {plan.rate_bps, plan.burst_bytes, plan.limit_bytes})
                    : exec_.replace_htb(vif.ifindex, vif.name, plan.rate_bps);
  if (!done.ok()) return kernel_error(std::move(done).error());
  NETD_ASSIGN_OR_RETURN(nlohmann::json qdisc, describe(vif));
  return nlohmann::json{{"qdisc", qdisc}};
}

Result<nlohmann::json> VifQdiscOps::remove(const policy::Policy&, const policy::SliceSpec& s,
                                           const api::qdiscs::DeleteIn& in) {
  NETD_ASSIGN_OR_RETURN(OwnVif vif, own_vif(s, in.dev));
  if (Status st = exec_.remove_root(vif.ifindex, vif.name); !st.ok()) return kernel_error(std::move(st).error());
  return nlohmann::json::object();
}

Result<nlohmann::json> VifQdiscOps::list(const policy::Policy&, const policy::SliceSpec& s,
                                         const api::qdiscs::ListIn& in) {
  nlohmann::json qdiscs = nlohmann::json::array();
  if (in.dev) {
    NETD_ASSIGN_OR_RETURN(OwnVif vif, own_vif(s, *in.dev));
    NETD_ASSIGN_OR_RETURN(nlohmann::json qdisc, describe(vif));
    qdiscs.push_back(std::move(qdisc));
    return nlohmann::json{{"qdiscs", qdiscs}};
  }
  for (const auto& name : vifs_.names_of(s)) {
    auto qdisc = describe({name, vifs_.ifindex_of(s, name)});
    // Gone since the last notification: it is no longer the slice's.
    if (!qdisc.ok() && qdisc.error().code == ENODEV) continue;
    if (!qdisc.ok()) return std::move(qdisc).error();
    qdiscs.push_back(*std::move(qdisc));
  }
  return nlohmann::json{{"qdiscs", qdiscs}};
}

}  // namespace netd::ops
