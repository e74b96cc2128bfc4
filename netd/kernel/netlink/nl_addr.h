// Conversions between netd's address types and libnl's nl_addr, shared by the executors.
#pragma once

#include <netlink/addr.h>

#include <memory>

#include "lib/core/net_types.h"

namespace netd::kernel {

struct NlAddrDeleter {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
using NlAddrPtr = std::unique_ptr<nl_addr, NlAddrDeleter>;

// nullptr only when out of memory.
NlAddrPtr to_nl_addr(const IpAddress& a, int prefix_len);
// Empty for anything but a complete IPv4/IPv6 address.
IpAddress from_nl_addr(nl_addr* a);

}  // namespace netd::kernel
