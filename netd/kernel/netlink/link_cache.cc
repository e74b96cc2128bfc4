#include "netd/kernel/netlink/link_cache.h"

#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/object.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <algorithm>
#include <utility>

#include "netd/kernel/netlink/nl_addr.h"

namespace netd::kernel {

namespace {

using State = LinkCache::State;

// Reads of queued notifications dropped before a resync's dump.
constexpr int kDrainLimit = 4096;
// Dumps started again after the kernel marked one interrupted.
constexpr int kDumpAttempts = 8;

void notify(State& st, LinkEvent e) {
  if (!st.resyncing && st.listener) st.listener(e);
}

void apply_link(State& st, rtnl_link* link, bool deleted) {
  const int ifindex = rtnl_link_get_ifindex(link);
  if (ifindex <= 0) return;
  const char* name = rtnl_link_get_name(link);
  auto it = st.links.find(ifindex);
  if (deleted) {
    // Only the family-less RTM_DELLINK is the device going: the bridge sends one of its own
    // family when a port leaves it, and the device stays.
    if (rtnl_link_get_family(link) != AF_UNSPEC || it == st.links.end()) return;
    LinkEvent e{LinkEvent::Kind::kLinkRemoved, ifindex, it->second.name};
    auto named = st.ifindex_by_name.find(it->second.name);
    if (named != st.ifindex_by_name.end() && named->second == ifindex) st.ifindex_by_name.erase(named);
    st.links.erase(it);
    st.addresses.erase(ifindex);  // the kernel announced their removal before; none may stay
    st.list_stale = true;
    notify(st, std::move(e));
    return;
  }
  const bool added = it == st.links.end();
  // The master only from the device's own (family-less) announcement: the bridge's AF_BRIDGE
  // one about itself names itself as its master.
  const int master = rtnl_link_get_family(link) == AF_UNSPEC ? static_cast<int>(rtnl_link_get_master(link))
                     : added                                 ? 0
                                                             : it->second.master;
  LinkCache::Link now{name != nullptr ? name : "", rtnl_link_get_flags(link), rtnl_link_get_mtu(link), master};
  if (!added && it->second == now) return;  // repeated per family, or a change the view does not keep
  if (added || it->second.name != now.name) {
    if (!added) {
      auto named = st.ifindex_by_name.find(it->second.name);
      if (named != st.ifindex_by_name.end() && named->second == ifindex) st.ifindex_by_name.erase(named);
    }
    st.ifindex_by_name[now.name] = ifindex;
    st.list_stale = true;
  }
  LinkEvent e{added ? LinkEvent::Kind::kLinkAdded : LinkEvent::Kind::kLinkChanged, ifindex, now.name};
  st.links[ifindex] = std::move(now);
  notify(st, std::move(e));
}

Prefix prefix_of(nl_addr* a) {
  IpAddress address = from_nl_addr(a);
  if (address.empty()) return {};
  return Prefix(address, static_cast<int>(nl_addr_get_prefixlen(a)));
}

void apply_address(State& st, rtnl_addr* addr, bool deleted) {
  nl_addr* local = rtnl_addr_get_local(addr);
  if (local == nullptr) return;
  LinkCache::Address a;
  a.address.local = prefix_of(local);
  if (a.address.local.address().empty()) return;
  nl_addr* peer = rtnl_addr_get_peer(addr);
  const bool has_peer = peer != nullptr && !prefix_of(peer).address().empty();
  a.address.on_link = has_peer ? prefix_of(peer).network() : a.address.local.network();
  // libnl reports IFA_ADDRESS as the peer even when it equals the local address.
  if (has_peer && !(prefix_of(peer).address() == a.address.local.address())) a.address.peer = prefix_of(peer).address();
  a.flags = rtnl_addr_get_flags(addr);

  // The kernel's identity of an address: its device, local address, prefix length and peer
  // (IPv4 allows one local address towards two peers).
  const int ifindex = rtnl_addr_get_ifindex(addr);
  auto same_address = [&](const LinkCache::Address& x) {
    return x.address.local == a.address.local && x.address.peer == a.address.peer;
  };
  if (deleted) {
    auto device = st.addresses.find(ifindex);
    if (device == st.addresses.end()) return;
    std::vector<LinkCache::Address>& list = device->second;
    auto same = std::find_if(list.begin(), list.end(), same_address);
    if (same == list.end()) return;
    list.erase(same);
    if (list.empty()) st.addresses.erase(device);
  } else {
    std::vector<LinkCache::Address>& list = st.addresses[ifindex];
    auto same = std::find_if(list.begin(), list.end(), same_address);
    if (same == list.end()) {
      list.push_back(a);
    } else if (*same == a) {
      return;
    } else {
      *same = a;
    }
  }
  LinkEvent e;
  e.kind = LinkEvent::Kind::kAddressChanged;
  e.ifindex = ifindex;
  e.address = a.address.local;
  e.address_removed = deleted;
  auto link = st.links.find(ifindex);
  if (link != st.links.end()) e.name = link->second.name;
  notify(st, std::move(e));
}

void on_object(nl_object* obj, void* arg) {
  auto& st = *static_cast<State*>(arg);
  switch (nl_object_get_msgtype(obj)) {
    case RTM_NEWLINK:
    case RTM_DELLINK:
      apply_link(st, reinterpret_cast<rtnl_link*>(obj), nl_object_get_msgtype(obj) == RTM_DELLINK);
      break;
    case RTM_NEWADDR:
    case RTM_DELADDR:
      apply_address(st, reinterpret_cast<rtnl_addr*>(obj), nl_object_get_msgtype(obj) == RTM_DELADDR);
      break;
    default:
      break;
  }
}

int on_message(nl_msg* msg, void* arg) {
  // libnl's parser for the message's type (route/link, route/addr) makes a transient object.
  // One it cannot parse is a change the table missed: read everything again.
  if (nl_msg_parse(msg, on_object, arg) < 0) static_cast<State*>(arg)->resync_pending = true;
  return NL_OK;
}

// An RTM_GETLINK / RTM_GETADDR dump of every family, with the (zeroed) header strict
// checking asks for.
Result<NlMessage> dump_request(int type) {
  NlMessage msg(nlmsg_alloc_simple(type, NLM_F_DUMP));
  if (msg.get() == nullptr) return make_error(ENOMEM, "reading links: out of memory");
  ifinfomsg link{};
  ifaddrmsg address{};
  const int err = type == RTM_GETLINK ? nlmsg_append(msg.get(), &link, sizeof link, NLMSG_ALIGNTO)
                                      : nlmsg_append(msg.get(), &address, sizeof address, NLMSG_ALIGNTO);
  if (err < 0) return make_error(ENOMEM, "reading links: out of memory");
  return msg;
}

}  // namespace

bool LinkCache::Address::operator==(const Address& o) const {
  return address.local == o.address.local && address.on_link == o.address.on_link &&
         address.peer == o.address.peer && flags == o.flags;
}

void LinkCache::SockFree::operator()(nl_sock* sock) const { nl_socket_free(sock); }

Result<LinkCache> LinkCache::open() {
  LinkCache cache;
  cache.events_.reset(nl_socket_alloc());
  nl_sock* events = cache.events_.get();
  if (events == nullptr) return make_error(ENOMEM, "watching links: allocating a netlink socket");
  nl_socket_disable_seq_check(events);  // notifications carry no sequence of ours
  nl_socket_modify_cb(events, NL_CB_VALID, NL_CB_CUSTOM, on_message, cache.state_.get());
  if (int err = nl_connect(events, NETLINK_ROUTE); err < 0)
    return make_error(EIO, std::string("watching links: ") + nl_geterror(err));
  // Subscribed before the dump: a change during it arrives as a notification after it, and
  // applying it again is harmless.
  if (int err = nl_socket_add_memberships(events, RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, 0); err < 0)
    return make_error(EIO, std::string("watching links: ") + nl_geterror(err));
  nl_socket_set_nonblocking(events);
  // Room for bursts of notifications (hundreds of devices coming and going at once).
  int rcvbuf = 4 << 20;
  setsockopt(nl_socket_get_fd(events), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  // The dumps' socket is made now too: a resync reads the netns the cache was opened in,
  // whichever the thread is in then.
  NETD_ASSIGN_OR_RETURN(NlSocket dumps, NlSocket::open());
  cache.dumps_.emplace(std::move(dumps));
  NETD_TRY(cache.dump());
  return cache;
}

Status LinkCache::dump() {
  // Into tables of its own, which replace the current ones only once both dumps are whole: a
  // failed resync keeps the last complete view (and is tried again) rather than announcing a
  // partial one. A dump the kernel marks interrupted (devices changed during it) starts again.
  Status last = ok_status();
  for (int attempt = 0; attempt < kDumpAttempts; ++attempt) {
    State fresh;
    fresh.resyncing = true;
    last = ok_status();
    for (int type : {RTM_GETLINK, RTM_GETADDR}) {
      NETD_ASSIGN_OR_RETURN(NlMessage request, dump_request(type));
      last = dumps_->dump(request, type == RTM_GETLINK ? "reading links" : "reading addresses", [&](nlmsghdr* nlh) {
        // libnl parses a message it owns: a copy, at a dump only.
        NlMessage msg(nlmsg_convert(nlh));
        if (msg.get() != nullptr) nlmsg_set_proto(msg.get(), NETLINK_ROUTE);  // libnl finds its parser by it
        if (msg.get() == nullptr || nl_msg_parse(msg.get(), on_object, &fresh) < 0) fresh.resync_pending = true;
      });
      if (last.ok() && fresh.resync_pending)
        last = make_error(EIO, std::string(type == RTM_GETLINK ? "reading links" : "reading addresses") +
                                   ": a message libnl could not parse");
      if (!last.ok()) break;
    }
    if (!last.ok() && last.error().code == EAGAIN) continue;
    if (!last.ok()) break;
    State& st = *state_;
    st.links = std::move(fresh.links);
    st.ifindex_by_name = std::move(fresh.ifindex_by_name);
    st.addresses = std::move(fresh.addresses);
    st.list_stale = true;
    st.resync_pending = false;
    return ok_status();
  }
  state_->resync_pending = true;
  return last;
}

int LinkCache::fd() const { return nl_socket_get_fd(events_.get()); }

void LinkCache::process_events() {
  int err = 0;
  while ((err = nl_recvmsgs_default(events_.get())) >= 0) {
  }
  if (err == -NLE_AGAIN && !state_->resync_pending) return;
  // Notifications were lost (the socket overran, or one could not be parsed): what changed
  // meanwhile is unknown, so read both tables afresh rather than decide on stale devices and
  // addresses. What is queued now is older than the dump and goes first (bounded: the kernel
  // keeps queueing); applied, but announced only as the resync.
  state_->resyncing = true;
  for (int i = 0; i < kDrainLimit && nl_recvmsgs_default(events_.get()) != -NLE_AGAIN; ++i) {
  }
  state_->resyncing = false;
  // A dump that fails keeps the last whole view and resync_pending: the next notification
  // tries again.
  if (!dump().ok()) return;
  if (state_->listener) state_->listener(LinkEvent{});
}

int LinkCache::ifindex(const std::string& name) {
  auto it = state_->ifindex_by_name.find(name);
  return it == state_->ifindex_by_name.end() ? 0 : it->second;
}

std::string LinkCache::name(int ifindex) {
  auto it = state_->links.find(ifindex);
  return it == state_->links.end() ? "" : it->second.name;
}

std::vector<InterfaceAddress> LinkCache::addresses(int ifindex) {
  std::vector<InterfaceAddress> out;
  auto it = state_->addresses.find(ifindex);
  if (it == state_->addresses.end()) return out;
  out.reserve(it->second.size());
  for (const auto& a : it->second) out.push_back(a.address);
  return out;
}

std::vector<LinkEntry> LinkCache::links() {
  State& st = *state_;
  if (st.list_stale) {
    st.list.clear();
    st.list.reserve(st.links.size());
    for (const auto& [ifindex, link] : st.links) st.list.push_back({ifindex, link.name});
    std::sort(st.list.begin(), st.list.end(), [](const LinkEntry& a, const LinkEntry& b) { return a.ifindex < b.ifindex; });
    st.list_stale = false;
  }
  return st.list;
}

}  // namespace netd::kernel
