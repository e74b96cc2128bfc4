// LinkView: what ops may ask about the netns's devices without a round trip (names, indexes,
// addresses). LinkCache is the kernel's; unit tests of ops give a table of their own.
#pragma once

#include <string>
#include <vector>

#include "lib/core/net_types.h"

namespace netd::kernel {

struct InterfaceAddress {
  Prefix local;     // address with its prefix length ("192.0.2.10/24")
  Prefix on_link;   // the prefix reachable on the device through it (peer prefix for ptp)
  IpAddress peer;   // point-to-point peer, if one was given
};

struct LinkEntry {
  int ifindex = 0;
  std::string name;
};

// What changed, as the view learns it. A lost notification (socket overrun) makes the cache
// re-read everything and report kResync: anything may have changed.
struct LinkEvent {
  enum class Kind { kLinkAdded, kLinkChanged, kLinkRemoved, kAddressChanged, kResync };
  Kind kind = Kind::kResync;
  int ifindex = 0;
  std::string name;  // the device's name (links; addresses: "" if the device is gone)
  // kAddressChanged: which address, and whether it went away (else it was added or changed).
  Prefix address;
  bool address_removed = false;
};

class LinkView {
 public:
  virtual ~LinkView() = default;
  // 0 when there is no such device.
  virtual int ifindex(const std::string& name) = 0;
  // "" when there is no such device.
  virtual std::string name(int ifindex) = 0;
  virtual std::vector<InterfaceAddress> addresses(int ifindex) = 0;
  // Every device of the netns.
  virtual std::vector<LinkEntry> links() = 0;
};

}  // namespace netd::kernel
