// IfbControl: the IFB devices of download shaping, one per uplink in netd's netns. The uplink's
// tcx ingress program (IngressClassifier) redirects arriving packets to the IFB, whose root HTB
// shapes them and hands them back to the uplink's receive path. IfbExecutor is the kernel's
// (rtnetlink); unit tests of ops give an in-memory one.
#pragma once

#include <map>
#include <string>

#include "lib/core/result.h"

namespace netd::kernel {

class IfbControl {
 public:
  virtual ~IfbControl() = default;

  // The IFB's name: "netdi<uplink ifindex>" (at most 15 characters whatever the ifindex, and
  // unaffected by renaming the uplink).
  static constexpr const char* kNamePrefix = "netdi";
  static std::string name_for(int uplink_ifindex) { return kNamePrefix + std::to_string(uplink_ifindex); }

  // Makes or adopts netd's IFB for the uplink: kind ifb, alias "netd ingress of
  // <uplink_name>", txqueuelen 1000, IPv6 addrgenmode none (no link-local address, whose
  // ND/MLD packets the IFB would only drop), up. Returns its ifindex. A device with that name
  // that is not an ifb: EEXIST naming it. Adoption keeps the device (and the HTB tree on it)
  // and only fixes alias, addrgenmode and up.
  virtual Result<int> ensure(int uplink_ifindex, const std::string& uplink_name) = 0;
  // Deletes the IFB (its HTB tree goes with it). A device that is gone is fine; one that is
  // not netd's IFB (kind ifb, name netdi<N>) is refused (EINVAL), never deleted.
  virtual Status remove(int ifb_ifindex) = 0;
  // netd's IFBs in this netns (kind ifb, name netdi<N>): uplink ifindex N → IFB ifindex.
  virtual Result<std::map<int, int>> list() = 0;
};

}  // namespace netd::kernel
