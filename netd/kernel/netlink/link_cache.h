// LinkCache: names, indexes and addresses of the netns's devices, kept current by libnl's
// cache manager from rtnetlink notifications, so policy checks need no round trips.
#pragma once

#include <functional>
#include <memory>
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
  IpAddress peer;   // point-to-point peer, if one was given
};

struct LinkEntry {
  int ifindex = 0;
  std::string name;
};

// What changed, as process_events() learns it. A lost notification (socket overrun) makes the
// cache re-read everything and report kResync: anything may have changed.
struct LinkEvent {
  enum class Kind { kLinkAdded, kLinkChanged, kLinkRemoved, kAddressChanged, kResync };
  Kind kind = Kind::kResync;
  int ifindex = 0;
  std::string name;  // the device's name (links; addresses: "" if the device is gone)
  // kAddressChanged: which address, and whether it went away (else it was added or changed).
  Prefix address;
  bool address_removed = false;
};

class LinkCache {
 public:
  using Listener = std::function<void(const LinkEvent&)>;
  // Heap-held so the pointer libnl keeps for its callbacks survives moves of the LinkCache.
  struct ListenerSlot {
    Listener fn;
    nl_cache* links = nullptr;
  };
  static Result<LinkCache> open();
  LinkCache(const LinkCache&) = delete;
  LinkCache& operator=(const LinkCache&) = delete;
  LinkCache(LinkCache&& o) noexcept;
  LinkCache& operator=(LinkCache&& o) noexcept;
  ~LinkCache();

  // Socket to watch for readability; then call process_events().
  int fd() const;
  // Called from process_events() for every change applied (set once, before events matter).
  void set_listener(Listener listener) { listener_->fn = std::move(listener); }
  // Applies pending notifications. The daemon calls it whenever fd() is readable, before
  // the requests of the same event batch; lookups themselves make no system calls.
  void process_events();

  // 0 when there is no such device.
  int ifindex(const std::string& name);
  std::string name(int ifindex);
  std::vector<InterfaceAddress> addresses(int ifindex);
  // Every device of the netns.
  std::vector<LinkEntry> links();

 private:
  LinkCache() = default;
  nl_cache_mngr* mngr_ = nullptr;
  nl_cache* links_ = nullptr;
  nl_cache* addrs_ = nullptr;
  std::unique_ptr<ListenerSlot> listener_ = std::make_unique<ListenerSlot>();
};

}  // namespace netd::kernel
