// libnl-route tc objects as RAII handles, and the pieces every tc executor builds them with.
#pragma once

#include <netlink/errno.h>
#include <netlink/route/class.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>

#include <cerrno>
#include <memory>
#include <string>

#include "lib/core/result.h"

namespace netd::kernel::tc {

struct QdiscDeleter {
  void operator()(rtnl_qdisc* q) const { rtnl_qdisc_put(q); }
};
struct ClassDeleter {
  void operator()(rtnl_class* c) const { rtnl_class_put(c); }
};
using QdiscPtr = std::unique_ptr<rtnl_qdisc, QdiscDeleter>;
using ClassPtr = std::unique_ptr<rtnl_class, ClassDeleter>;

// libnl's own errors (a message it could not build) are the request's fault, not the kernel's.
inline Error libnl_error(int err, const std::string& what) {
  return make_error(EINVAL, what + ": " + nl_geterror(err));
}

// An rtnl_qdisc addressed at the root of `ifindex`, with `handle` (kind not set).
inline Result<QdiscPtr> root_qdisc(int ifindex, uint32_t handle, const std::string& what) {
  QdiscPtr q(rtnl_qdisc_alloc());
  if (!q) return make_error(ENOMEM, what + ": out of memory");
  rtnl_tc* tc = TC_CAST(q.get());
  rtnl_tc_set_ifindex(tc, ifindex);
  rtnl_tc_set_parent(tc, TC_H_ROOT);
  rtnl_tc_set_handle(tc, handle);
  return q;
}

}  // namespace netd::kernel::tc
