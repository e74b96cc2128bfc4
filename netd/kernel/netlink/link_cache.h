// LinkCache: names, indexes and addresses of the netns's devices, kept current by libnl's
// cache manager from rtnetlink notifications, so policy checks need no round trips.
#pragma once

#include <string>
#include <vector>

#include "lib/core/net_types.h"
#include "lib/core/result.h"

struct nl_cache_mngr;
struct nl_cache;

namespace netd::kernel {

struct InterfaceAddress {
  Prefix local;     // address with its prefix length ("192.0.2.10/24")
  Prefix on_link;   // the prefix reachable on the device through it (peer prefix for ptp)
};

class LinkCache {
 public:
  static Result<LinkCache> open();
  LinkCache(const LinkCache&) = delete;
  LinkCache& operator=(const LinkCache&) = delete;
  LinkCache(LinkCache&& o) noexcept;
  LinkCache& operator=(LinkCache&& o) noexcept;
  ~LinkCache();

  // Socket to watch for readability; then call process_events().
  int fd() const;
  // Applies pending notifications. The daemon calls it whenever fd() is readable, before
  // the requests of the same event batch; lookups themselves make no system calls.
  void process_events();

  // 0 when there is no such device.
  int ifindex(const std::string& name);
  std::string name(int ifindex);
  std::vector<InterfaceAddress> addresses(int ifindex);

 private:
  LinkCache() = default;
  nl_cache_mngr* mngr_ = nullptr;
  nl_cache* links_ = nullptr;
  nl_cache* addrs_ = nullptr;
};

}  // namespace netd::kernel
