// LinkCache: the kernel's LinkView: names, indexes and addresses of the netns's devices, kept
// current from rtnetlink notifications, so policy checks need no round trips. libnl parses the
// messages (nl_msg_parse); the cache keeps only what the view answers with, a few dozen bytes
// per device: libnl's own caches hold a full object per device and family (1.75 KiB each,
// 7 MiB with 4096 vifs), and made every change rebuild the indexes over all devices.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "lib/core/result.h"
#include "netd/kernel/netlink/link_view.h"
#include "netd/kernel/netlink/nl_socket.h"

struct nl_sock;

namespace netd::kernel {

class LinkCache : public LinkView {
 public:
  using Listener = std::function<void(const LinkEvent&)>;
  static Result<LinkCache> open();
  LinkCache(const LinkCache&) = delete;
  LinkCache& operator=(const LinkCache&) = delete;
  LinkCache(LinkCache&&) noexcept = default;
  LinkCache& operator=(LinkCache&&) noexcept = default;

  // Socket to watch for readability; then call process_events().
  int fd() const;
  // Called from process_events() for every change applied (set once, before events matter).
  void set_listener(Listener listener) { state_->listener = std::move(listener); }
  // Applies pending notifications. The daemon calls it whenever fd() is readable, before
  // the requests of the same event batch; lookups themselves make no system calls.
  void process_events();

  int ifindex(const std::string& name) override;
  std::string name(int ifindex) override;
  std::vector<InterfaceAddress> addresses(int ifindex) override;
  std::vector<LinkEntry> links() override;

  // What is kept of a device and of an address; a notification that changes none of it is no
  // event (the kernel repeats RTM_NEWLINK per address family, and on changes netd ignores).
  struct Link {
    std::string name;
    unsigned flags = 0;
    unsigned mtu = 0;
    int master = 0;
    bool operator==(const Link&) const = default;
  };
  struct Address {
    InterfaceAddress address;
    unsigned flags = 0;
    bool operator==(const Address&) const;
  };
  // Heap-held: libnl's parse callbacks keep a pointer to it across moves of the LinkCache.
  struct State {
    Listener listener;
    std::unordered_map<int, Link> links;
    std::unordered_map<std::string, int> ifindex_by_name;
    std::unordered_map<int, std::vector<Address>> addresses;
    std::vector<LinkEntry> list;  // links() by ifindex, made again after a device came, went or was renamed
    bool list_stale = true;
    bool resyncing = false;       // notifications applied but not announced (before a resync)
    bool resync_pending = false;  // notifications were lost and no dump has made up for them
  };

 private:
  LinkCache() = default;
  // Both tables read afresh (at open, and when notifications were lost).
  Status dump();
  struct SockFree {
    void operator()(nl_sock* sock) const;
  };
  std::unique_ptr<nl_sock, SockFree> events_;  // subscribed to link and address notifications
  std::optional<NlSocket> dumps_;              // for dump(), made in the same netns
  std::unique_ptr<State> state_ = std::make_unique<State>();
};

}  // namespace netd::kernel
