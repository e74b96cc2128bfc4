// IfbExecutor: the kernel's IfbControl over rtnetlink (libnl-route), in the netns its socket
// was opened in. Thin: no policy, no bookkeeping.
#pragma once

#include <map>
#include <string>

#include "lib/core/result.h"
#include "netd/kernel/netlink/ifb_control.h"
#include "netd/kernel/netlink/nl_socket.h"

namespace netd::kernel {

class IfbExecutor : public IfbControl {
 public:
  static constexpr unsigned kTxQueueLen = 1000;

  explicit IfbExecutor(NlSocket& sock) : sock_(sock) {}

  static std::string alias_for(const std::string& uplink_name) { return "netd ingress of " + uplink_name; }

  Result<int> ensure(int uplink_ifindex, const std::string& uplink_name) override;
  Status remove(int ifb_ifindex) override;
  Result<std::map<int, int>> list() override;

 private:
  NlSocket& sock_;
};

}  // namespace netd::kernel
