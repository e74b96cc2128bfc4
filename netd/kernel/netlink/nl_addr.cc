#include "netd/kernel/netlink/nl_addr.h"

namespace netd::kernel {

NlAddrPtr to_nl_addr(const IpAddress& a, int prefix_len) {
  NlAddrPtr addr(nl_addr_build(a.family(), a.bytes(), a.size()));
  if (addr) nl_addr_set_prefixlen(addr.get(), prefix_len);
  return addr;
}

IpAddress from_nl_addr(nl_addr* a) {
  if (a == nullptr || nl_addr_get_len(a) == 0) return {};
  int family = nl_addr_get_family(a);
  if ((family != AF_INET && family != AF_INET6) || nl_addr_get_len(a) != (family == AF_INET ? 4u : 16u))
    return {};
  return IpAddress::from_bytes(family, nl_addr_get_binary_addr(a));
}

}  // namespace netd::kernel
