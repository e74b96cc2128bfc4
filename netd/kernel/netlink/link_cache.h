// LinkCache: the kernel's LinkView: names, indexes and addresses of the netns's devices, kept
// current by libnl's cache manager from rtnetlink notifications, so policy checks need no round trips.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "lib/core/result.h"
#include "netd/kernel/netlink/link_view.h"

struct nl_cache_mngr;
struct nl_cache;

namespace netd::kernel {

class LinkCache : public LinkView {
 public:
  using Listener = std::function<void(const LinkEvent&)>;
  // Heap-held so the pointer libnl keeps for its callbacks survives moves of the LinkCache.
  struct ListenerSlot {
    Listener fn;
    nl_cache* links = nullptr;
    // Set by every change libnl applies: the lookup indexes below are made again on next use.
    bool links_changed = true;
    bool addresses_changed = true;
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

  int ifindex(const std::string& name) override;
  std::string name(int ifindex) override;
  std::vector<InterfaceAddress> addresses(int ifindex) override;
  std::vector<LinkEntry> links() override;

 private:
  LinkCache() = default;
  nl_cache_mngr* mngr_ = nullptr;
  nl_cache* links_ = nullptr;
  nl_cache* addrs_ = nullptr;
  std::unique_ptr<ListenerSlot> listener_ = std::make_unique<ListenerSlot>();
  // Indexes over libnl's caches, whose own lookups by name and by device walk every object:
  // with thousands of vifs every route request paid that walk for each device it names.
  // Made on first use after a change, so a request costs a hash lookup.
  void index_links();
  void index_addresses();
  std::vector<LinkEntry> link_list_;
  std::unordered_map<std::string, int> ifindex_by_name_;
  std::unordered_map<int, std::vector<InterfaceAddress>> addresses_by_ifindex_;
};

}  // namespace netd::kernel
