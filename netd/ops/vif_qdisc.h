// io.netd.Qdiscs: the root qdisc of a slice's own vifs (`sliceip qdisc`). The device must be
// one of the slice's vifs (VifOps knows which); the values are decide_vif_qdisc's; the kernel
// does the rest and is the only state: a vif's qdisc goes with the vif.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "lib/core/result.h"
#include "lib/varlink/api/qdiscs.h"
#include "netd/kernel/netlink/link_control.h"
#include "netd/kernel/netlink/nl_socket.h"
#include "netd/kernel/netlink/vif_qdisc.h"
#include "netd/ops/vifs.h"
#include "netd/policy/policy.h"

namespace netd::ops {

class VifQdiscOps {
 public:
  VifQdiscOps(kernel::NlSocket& sock, kernel::LinkControl& links, VifOps& vifs)
      : exec_(sock), links_(links), vifs_(vifs) {}

  // Replace(dev, kind, rate, burst?, latency?, limit?) -> (qdisc)
  Result<nlohmann::json> replace(const policy::Policy& p, const policy::SliceSpec& s, const api::qdiscs::ReplaceIn& in);
  // Delete(dev) -> (): the vif gets its default qdisc back.
  Result<nlohmann::json> remove(const policy::Policy& p, const policy::SliceSpec& s, const api::qdiscs::DeleteIn& in);
  // List(dev?) -> (qdiscs): the root qdisc of each of the slice's vifs, or of one.
  Result<nlohmann::json> list(const policy::Policy& p, const policy::SliceSpec& s, const api::qdiscs::ListIn& in);

 private:
  struct OwnVif {
    std::string name;
    int ifindex = 0;
  };
  // The slice's vif named by the request's "dev", or the refusal: not a vif, another
  // slice's (PermissionDenied), or none of that name (NotFound).
  Result<OwnVif> own_vif(const policy::SliceSpec& s, const std::string& dev);
  Result<nlohmann::json> describe(const OwnVif& vif);

  kernel::VifQdiscExecutor exec_;
  kernel::LinkControl& links_;
  VifOps& vifs_;
};

}  // namespace netd::ops
