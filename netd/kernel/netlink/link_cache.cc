#include "netd/kernel/netlink/link_cache.h"

#include <map>

#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/socket.h>
#include <sys/socket.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include <utility>
#include <vector>

#include "netd/kernel/netlink/nl_addr.h"

namespace netd::kernel {

namespace {

// The kernel announces a device's deletion once (RTM_DELLINK, AF_UNSPEC), and libnl removes
// only that object; the device's objects of other families (AF_INET6, from the per-family
// RTM_NEWLINK after IPv6 configuration) would stay for good under its name and index: a leak
// per device, and a new device of the same name would be listed twice (the raw send fence
// refused every publish then, failing every vif request). They go with the device.
void drop_other_families(nl_cache* cache, int ifindex) {
  struct Stale {
    int ifindex;
    std::vector<nl_object*> objects;
  } stale{ifindex, {}};
  nl_cache_foreach(
      cache,
      [](nl_object* obj, void* arg) {
        auto* s = static_cast<Stale*>(arg);
        if (rtnl_link_get_ifindex(reinterpret_cast<rtnl_link*>(obj)) != s->ifindex) return;
        nl_object_get(obj);
        s->objects.push_back(obj);
      },
      &stale);
  for (nl_object* obj : stale.objects) {
    nl_cache_remove(obj);
    nl_object_put(obj);
  }
}

void on_link_change(nl_cache* cache, nl_object* obj, int action, void* arg) {
  auto* link = reinterpret_cast<rtnl_link*>(obj);
  if (action == NL_ACT_DEL) drop_other_families(cache, rtnl_link_get_ifindex(link));
  auto* slot = static_cast<LinkCache::ListenerSlot*>(arg);
  slot->links_changed = true;
  slot->addresses_changed = true;  // a device's addresses go with it
  if (!slot->fn) return;
  LinkEvent e;
  e.kind = action == NL_ACT_NEW ? LinkEvent::Kind::kLinkAdded
           : action == NL_ACT_DEL ? LinkEvent::Kind::kLinkRemoved
                                  : LinkEvent::Kind::kLinkChanged;
  e.ifindex = rtnl_link_get_ifindex(link);
  if (const char* name = rtnl_link_get_name(link)) e.name = name;
  slot->fn(e);
}

void on_addr_change(nl_cache*, nl_object* obj, int action, void* arg) {
  auto* slot = static_cast<LinkCache::ListenerSlot*>(arg);
  slot->addresses_changed = true;
  if (!slot->fn) return;
  auto* addr = reinterpret_cast<rtnl_addr*>(obj);
  LinkEvent e;
  e.kind = LinkEvent::Kind::kAddressChanged;
  e.ifindex = rtnl_addr_get_ifindex(addr);
  e.address_removed = action == NL_ACT_DEL;
  if (nl_addr* local = rtnl_addr_get_local(addr)) {
    IpAddress a = from_nl_addr(local);
    if (!a.empty()) e.address = Prefix(a, static_cast<int>(nl_addr_get_prefixlen(local)));
  }
  char buf[IFNAMSIZ] = {};
  if (slot->links != nullptr && rtnl_link_i2name(slot->links, e.ifindex, buf, sizeof buf) != nullptr) e.name = buf;
  slot->fn(e);
}

}  // namespace

Result<LinkCache> LinkCache::open() {
  LinkCache cache;
  int err = nl_cache_mngr_alloc(nullptr, NETLINK_ROUTE, NL_AUTO_PROVIDE, &cache.mngr_);
  if (err < 0) return make_error(EIO, std::string("watching links: ") + nl_geterror(err));
  err = nl_cache_mngr_add(cache.mngr_, "route/link", on_link_change, cache.listener_.get(), &cache.links_);
  if (err < 0) return make_error(EIO, std::string("caching links: ") + nl_geterror(err));
  cache.listener_->links = cache.links_;
  err = nl_cache_mngr_add(cache.mngr_, "route/addr", on_addr_change, cache.listener_.get(), &cache.addrs_);
  if (err < 0) return make_error(EIO, std::string("caching addresses: ") + nl_geterror(err));
  // Room for bursts of notifications (hundreds of devices coming and going at once).
  int rcvbuf = 4 << 20;
  setsockopt(nl_cache_mngr_get_fd(cache.mngr_), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  return cache;
}

LinkCache::LinkCache(LinkCache&& o) noexcept
    : mngr_(std::exchange(o.mngr_, nullptr)),
      links_(std::exchange(o.links_, nullptr)),
      addrs_(std::exchange(o.addrs_, nullptr)),
      listener_(std::move(o.listener_)),
      link_list_(std::move(o.link_list_)),
      ifindex_by_name_(std::move(o.ifindex_by_name_)),
      addresses_by_ifindex_(std::move(o.addresses_by_ifindex_)) {}

LinkCache& LinkCache::operator=(LinkCache&& o) noexcept {
  std::swap(mngr_, o.mngr_);
  std::swap(links_, o.links_);
  std::swap(addrs_, o.addrs_);
  std::swap(listener_, o.listener_);
  std::swap(link_list_, o.link_list_);
  std::swap(ifindex_by_name_, o.ifindex_by_name_);
  std::swap(addresses_by_ifindex_, o.addresses_by_ifindex_);
  return *this;
}

LinkCache::~LinkCache() {
  // The manager owns the caches it created.
  if (mngr_ != nullptr) nl_cache_mngr_free(mngr_);
}

int LinkCache::fd() const { return nl_cache_mngr_get_fd(mngr_); }

void LinkCache::process_events() {
  if (nl_cache_mngr_data_ready(mngr_) >= 0) return;
  // Notifications were lost (the socket overran): what changed meanwhile is unknown, so
  // read both tables afresh rather than decide on stale devices and addresses.
  nl_sock* sock = nl_socket_alloc();
  if (sock == nullptr) return;
  if (nl_connect(sock, NETLINK_ROUTE) == 0) {
    nl_cache_refill(sock, links_);
    nl_cache_refill(sock, addrs_);
  }
  listener_->links_changed = true;
  listener_->addresses_changed = true;
  nl_socket_free(sock);
  if (listener_->fn) listener_->fn(LinkEvent{});
}

int LinkCache::ifindex(const std::string& name) {
  index_links();
  auto it = ifindex_by_name_.find(name);
  return it == ifindex_by_name_.end() ? 0 : it->second;
}

std::string LinkCache::name(int ifindex) {
  char buf[IFNAMSIZ] = {};
  if (rtnl_link_i2name(links_, ifindex, buf, sizeof buf) == nullptr) return "";
  return buf;
}

namespace {

Prefix prefix_of(nl_addr* a) {
  IpAddress address = from_nl_addr(a);
  if (address.empty()) return {};
  return Prefix(address, static_cast<int>(nl_addr_get_prefixlen(a)));
}

}  // namespace

std::vector<InterfaceAddress> LinkCache::addresses(int ifindex) {
  index_addresses();
  auto it = addresses_by_ifindex_.find(ifindex);
  return it == addresses_by_ifindex_.end() ? std::vector<InterfaceAddress>{} : it->second;
}

void LinkCache::index_addresses() {
  if (!listener_->addresses_changed) return;
  addresses_by_ifindex_.clear();
  nl_cache_foreach(
      addrs_,
      [](nl_object* obj, void* arg) {
        auto& by_ifindex = *static_cast<std::unordered_map<int, std::vector<InterfaceAddress>>*>(arg);
        auto* addr = reinterpret_cast<rtnl_addr*>(obj);
        nl_addr* local = rtnl_addr_get_local(addr);
        if (local == nullptr) return;
        InterfaceAddress ia;
        ia.local = prefix_of(local);
        if (ia.local.address().empty()) return;
        nl_addr* peer = rtnl_addr_get_peer(addr);
        bool has_peer = peer != nullptr && !prefix_of(peer).address().empty();
        ia.on_link = has_peer ? prefix_of(peer).network() : ia.local.network();
        // libnl reports IFA_ADDRESS as the peer even when it equals the local address.
        if (has_peer && !(prefix_of(peer).address() == ia.local.address())) ia.peer = prefix_of(peer).address();
        by_ifindex[rtnl_addr_get_ifindex(addr)].push_back(ia);
      },
      &addresses_by_ifindex_);
  listener_->addresses_changed = false;
}

std::vector<LinkEntry> LinkCache::links() {
  index_links();
  return link_list_;
}

void LinkCache::index_links() {
  if (!listener_->links_changed) return;
  // libnl keys link objects by ifindex and family: the kernel's per-family link
  // notifications (RTM_NEWLINK with AF_INET6 after address configuration, for one) leave a
  // second object for the same device. One entry per device.
  std::map<int, std::string> by_index;
  nl_cache_foreach(
      links_,
      [](nl_object* obj, void* arg) {
        auto* link = reinterpret_cast<rtnl_link*>(obj);
        const char* name = rtnl_link_get_name(link);
        auto& out = *static_cast<std::map<int, std::string>*>(arg);
        auto [it, added] = out.emplace(rtnl_link_get_ifindex(link), name ? name : "");
        // Prefer the family-less (AF_UNSPEC) object's name, which follows renames.
        if (!added && rtnl_link_get_family(link) == AF_UNSPEC && name != nullptr) it->second = name;
      },
      &by_index);
  link_list_.clear();
  link_list_.reserve(by_index.size());
  ifindex_by_name_.clear();
  for (auto& [ifindex, name] : by_index) {
    ifindex_by_name_.emplace(name, ifindex);
    link_list_.push_back({ifindex, std::move(name)});
  }
  listener_->links_changed = false;
}

}  // namespace netd::kernel
