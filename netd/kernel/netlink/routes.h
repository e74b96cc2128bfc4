// RouteExecutor: the kernel's RouteControl, over rtnetlink (libnl-route). Thin: no policy, no bookkeeping.
#pragma once

#include <cstdint>
#include <vector>

#include "lib/core/net_types.h"
#include "lib/core/result.h"
#include "netd/kernel/netlink/nl_socket.h"
#include "netd/kernel/netlink/route_control.h"

namespace netd::kernel {

class RouteExecutor : public RouteControl {
 public:
  explicit RouteExecutor(NlSocket& sock) : sock_(sock) {}

  Status add(const RouteSpec& route, bool replace) override;
  Status remove(const RouteSpec& route) override;
  // Filtered by the kernel (strict checking), and again here for kernels that ignore the filter.
  Result<std::vector<RouteSpec>> list(uint32_t table, int family) override;
  Result<RouteLookup> lookup(const IpAddress& dst, uint32_t mark, uint32_t uid) override;

  Status add_rule(const RoutingRule& rule) override;
  Status remove_rule(const RoutingRule& rule) override;
  Result<std::vector<RoutingRule>> list_rules(int family, uint32_t first, uint32_t last) override;

 private:
  NlSocket& sock_;
};

}  // namespace netd::kernel
