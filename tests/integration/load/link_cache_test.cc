// Found by the load test: a device that had IPv6 configured left an entry in netd's link cache
// after it was deleted (libnl keeps one object per family, the kernel announces the deletion for
// AF_UNSPEC only), so a vif re-created under the same name was listed twice and netd's raw send
// fence refused every later publish: every vif request failed until a resync. Here the cache
// itself, in a namespace of its own, follows the kernel's announcements, each awaited on a
// socket of the test's own subscribed to the same groups (netlink delivers a notification to
// every subscriber at once: once the test has it, the cache's socket has it too).
#include <gtest/gtest.h>

#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "lib/core/unique_fd.h"
#include "netd/kernel/netlink/link_cache.h"
#include "tests/fixtures/eventually.h"
#include "tests/fixtures/netns.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/require_root.h"
#include "tests/fixtures/test_macros.h"

namespace netd::testing {
namespace {

// RTM_NEWLINK / RTM_DELLINK of every family (or the groups given: addresses).
class LinkWatch {
 public:
  explicit LinkWatch(uint32_t groups = RTMGRP_LINK | (1u << (RTNLGRP_IPV6_IFINFO - 1)))
      : fd_(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) {
    sockaddr_nl addr{};
    addr.nl_family = AF_NETLINK;
    addr.nl_groups = groups;
    bound_ = fd_.valid() && bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  bool bound() const { return bound_; }

  // Reads notifications until one of `type` and `family` about ifindex (0: any) came; the
  // ifindex it was about, or 0 if none came within the bound.
  int await(uint16_t type, uint8_t family, int ifindex, const std::string& name = "") {
    auto deadline = std::chrono::steady_clock::now() + kEventTimeout;
    char buf[1 << 16];
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      ssize_t n = recv(fd_.get(), buf, sizeof buf, 0);
      if (n <= 0) continue;
      int len = static_cast<int>(n);
      for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_type != type) continue;
        if (type == RTM_NEWADDR || type == RTM_DELADDR) {
          auto* ifa = static_cast<ifaddrmsg*>(NLMSG_DATA(h));
          if (ifa->ifa_family != family || (ifindex != 0 && static_cast<int>(ifa->ifa_index) != ifindex)) continue;
          return static_cast<int>(ifa->ifa_index);
        }
        auto* ifi = static_cast<ifinfomsg*>(NLMSG_DATA(h));
        if (ifi->ifi_family != family || (ifindex != 0 && ifi->ifi_index != ifindex)) continue;
        if (!name.empty() && !has_name(h, name)) continue;
        return ifi->ifi_index;
      }
    }
    return 0;
  }

 private:
  static bool has_name(nlmsghdr* h, const std::string& name) {
    int len = static_cast<int>(IFLA_PAYLOAD(h));
    for (auto* a = IFLA_RTA(static_cast<ifinfomsg*>(NLMSG_DATA(h))); RTA_OK(a, len); a = RTA_NEXT(a, len))
      if (a->rta_type == IFLA_IFNAME) return name == static_cast<const char*>(RTA_DATA(a));
    return false;
  }

  UniqueFd fd_;
  bool bound_ = false;
};

size_t entries_named(kernel::LinkCache& cache, const std::string& name) {
  auto links = cache.links();
  return static_cast<size_t>(
      std::count_if(links.begin(), links.end(), [&](const kernel::LinkEntry& l) { return l.name == name; }));
}

TEST(LinkCacheChurn, ADeletedDeviceLeavesNoEntryAndItsNameComesBackOnce) {
  NETD_REQUIRE_ROOT();
  auto ns = Netns::create();
  ASSERT_OK(ns);
  auto inside = ns->enter();  // the cache's and the watch's sockets belong to this netns
  ASSERT_OK(inside);
  LinkWatch watch;
  ASSERT_TRUE(watch.bound());
  auto cache = kernel::LinkCache::open();
  ASSERT_OK(cache);

  // A veth pair up on both ends has a carrier: IPv6 configures it, and the kernel announces the
  // device once more, for AF_INET6.
  auto add_pair = [&] {
    for (const auto& argv : std::vector<std::vector<std::string>>{{"ip", "link", "add", "lcva", "type", "veth", "peer", "name", "lcvb"},
                                                                  {"ip", "link", "set", "lcva", "up"},
                                                                  {"ip", "link", "set", "lcvb", "up"}}) {
      auto r = run_in(&*ns, argv);
      EXPECT_TRUE(r.ok()) << r.describe();
    }
  };
  add_pair();
  int first = watch.await(RTM_NEWLINK, AF_INET6, 0, "lcva");
  ASSERT_NE(first, 0) << "no AF_INET6 announcement of lcva";
  cache->process_events();
  ASSERT_EQ(cache->ifindex("lcva"), first);

  ASSERT_TRUE(run_in(&*ns, {"ip", "link", "del", "lcva"}).ok());
  ASSERT_EQ(watch.await(RTM_DELLINK, AF_UNSPEC, first), first);
  cache->process_events();
  EXPECT_EQ(cache->ifindex("lcva"), 0);
  EXPECT_EQ(cache->name(first), "");
  EXPECT_EQ(entries_named(*cache, "lcva"), 0u);

  add_pair();
  int second = watch.await(RTM_NEWLINK, AF_UNSPEC, 0, "lcva");
  ASSERT_NE(second, 0);
  ASSERT_NE(second, first);
  cache->process_events();
  EXPECT_EQ(entries_named(*cache, "lcva"), 1u);
  EXPECT_EQ(cache->ifindex("lcva"), second);
}


// The view keeps a device's name, flags, mtu and master; the events it reports.
class LinkCacheView : public ::testing::Test {
 protected:
  void SetUp() override {
    NETD_REQUIRE_ROOT();
    auto ns = Netns::create();
    ASSERT_OK(ns);
    ns_.emplace(std::move(*ns));
    auto inside = ns_->enter();
    ASSERT_OK(inside);
    watch_.emplace(RTMGRP_LINK | RTMGRP_IPV4_IFADDR);
    ASSERT_TRUE(watch_->bound());
    auto cache = kernel::LinkCache::open();
    ASSERT_OK(cache);
    cache_.emplace(std::move(*cache));
    cache_->set_listener([this](const kernel::LinkEvent& e) { events_.push_back(e); });
  }
  void ip(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"ip"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_in(&*ns_, argv);
    ASSERT_TRUE(r.ok()) << r.describe();
  }
  size_t count(kernel::LinkEvent::Kind kind, int ifindex) const {
    return static_cast<size_t>(std::count_if(events_.begin(), events_.end(), [&](const kernel::LinkEvent& e) {
      return e.kind == kind && e.ifindex == ifindex;
    }));
  }
  std::optional<Netns> ns_;
  std::optional<LinkWatch> watch_;
  std::optional<kernel::LinkCache> cache_;
  std::vector<kernel::LinkEvent> events_;
};

TEST_F(LinkCacheView, ARenamedDeviceAnswersToItsNewNameOnly) {
  ip({"link", "add", "lcra", "type", "veth", "peer", "name", "lcrb"});
  const int index = watch_->await(RTM_NEWLINK, AF_UNSPEC, 0, "lcra");
  ASSERT_NE(index, 0);
  cache_->process_events();
  ASSERT_EQ(cache_->ifindex("lcra"), index);
  EXPECT_EQ(count(kernel::LinkEvent::Kind::kLinkAdded, index), 1u);
  ip({"link", "set", "lcra", "name", "lcrc"});
  ASSERT_EQ(watch_->await(RTM_NEWLINK, AF_UNSPEC, index, "lcrc"), index);
  cache_->process_events();
  EXPECT_EQ(cache_->ifindex("lcrc"), index);
  EXPECT_EQ(cache_->ifindex("lcra"), 0);
  EXPECT_EQ(cache_->name(index), "lcrc");
  EXPECT_EQ(entries_named(*cache_, "lcra"), 0u);
  EXPECT_EQ(entries_named(*cache_, "lcrc"), 1u);
  EXPECT_EQ(count(kernel::LinkEvent::Kind::kLinkChanged, index), 1u);
}

TEST_F(LinkCacheView, AnAnnouncementThatChangesNothingItKeepsIsNoEvent) {
  ip({"link", "add", "lcna", "type", "veth", "peer", "name", "lcnb"});
  const int index = watch_->await(RTM_NEWLINK, AF_UNSPEC, 0, "lcna");
  ASSERT_NE(index, 0);
  cache_->process_events();
  events_.clear();
  ip({"link", "set", "lcna", "txqueuelen", "100"});  // announced; not in the view
  ASSERT_EQ(watch_->await(RTM_NEWLINK, AF_UNSPEC, index), index);
  cache_->process_events();
  EXPECT_EQ(count(kernel::LinkEvent::Kind::kLinkChanged, index), 0u);
  ip({"link", "set", "lcna", "mtu", "1400"});
  ASSERT_EQ(watch_->await(RTM_NEWLINK, AF_UNSPEC, index), index);
  cache_->process_events();
  EXPECT_EQ(count(kernel::LinkEvent::Kind::kLinkChanged, index), 1u);
}

// The bridge announces a port's leaving with an RTM_DELLINK of its own family.
TEST_F(LinkCacheView, ABridgePortThatLeavesItIsStillADevice) {
  ip({"link", "add", "lcbr", "type", "bridge"});
  ip({"link", "add", "lcpa", "type", "veth", "peer", "name", "lcpb"});
  const int port = watch_->await(RTM_NEWLINK, AF_UNSPEC, 0, "lcpa");
  ASSERT_NE(port, 0);
  ip({"link", "set", "lcpa", "master", "lcbr"});
  ip({"link", "set", "lcpa", "nomaster"});
  ASSERT_EQ(watch_->await(RTM_DELLINK, AF_BRIDGE, port), port);
  cache_->process_events();
  EXPECT_EQ(cache_->ifindex("lcpa"), port);
  EXPECT_EQ(count(kernel::LinkEvent::Kind::kLinkRemoved, port), 0u);
}

TEST_F(LinkCacheView, AddressesComeAndGoWithOneEventEach) {
  ip({"link", "add", "lcaa", "type", "veth", "peer", "name", "lcab"});
  const int index = watch_->await(RTM_NEWLINK, AF_UNSPEC, 0, "lcaa");
  ASSERT_NE(index, 0);
  ip({"addr", "add", "192.0.2.1/24", "dev", "lcaa"});
  ASSERT_EQ(watch_->await(RTM_NEWADDR, AF_INET, index), index);
  cache_->process_events();
  auto addresses = cache_->addresses(index);
  ASSERT_EQ(addresses.size(), 1u);
  EXPECT_EQ(addresses[0].local.to_string(), "192.0.2.1/24");
  EXPECT_EQ(addresses[0].on_link.to_string(), "192.0.2.0/24");
  ASSERT_EQ(count(kernel::LinkEvent::Kind::kAddressChanged, index), 1u);
  EXPECT_EQ(events_.back().name, "lcaa");
  EXPECT_FALSE(events_.back().address_removed);
  ip({"addr", "del", "192.0.2.1/24", "dev", "lcaa"});
  ASSERT_EQ(watch_->await(RTM_DELADDR, AF_INET, index), index);
  cache_->process_events();
  EXPECT_TRUE(cache_->addresses(index).empty());
  EXPECT_EQ(count(kernel::LinkEvent::Kind::kAddressChanged, index), 2u);
  EXPECT_TRUE(events_.back().address_removed);
}

// Notifications lost to an overrun socket: the table is read afresh and the listener told to
// look at everything (kResync).
TEST_F(LinkCacheView, LostNotificationsAreAResyncThatMissesNoDevice) {
  int small = 1;  // the kernel's minimum: a couple of notifications
  ASSERT_EQ(setsockopt(cache_->fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
  for (int i = 0; i < 16; ++i)
    ip({"link", "add", "lco" + std::to_string(i), "type", "veth", "peer", "name", "lcp" + std::to_string(i)});
  ASSERT_NE(watch_->await(RTM_NEWLINK, AF_UNSPEC, 0, "lcp15"), 0);
  cache_->process_events();
  EXPECT_GE(std::count_if(events_.begin(), events_.end(),
                          [](const kernel::LinkEvent& e) { return e.kind == kernel::LinkEvent::Kind::kResync; }),
            1);
  for (int i = 0; i < 16; ++i) {
    EXPECT_NE(cache_->ifindex("lco" + std::to_string(i)), 0) << i;
    EXPECT_NE(cache_->ifindex("lcp" + std::to_string(i)), 0) << i;
  }
}

// IPv4 allows one local address towards two peers: two addresses, and deleting one leaves the other.
TEST_F(LinkCacheView, OneLocalAddressTowardsTwoPeersIsTwoAddresses) {
  ip({"link", "add", "lcqa", "type", "veth", "peer", "name", "lcqb"});
  const int index = watch_->await(RTM_NEWLINK, AF_UNSPEC, 0, "lcqa");
  ASSERT_NE(index, 0);
  ip({"addr", "add", "10.9.0.1", "peer", "10.9.0.2/32", "dev", "lcqa"});
  ASSERT_EQ(watch_->await(RTM_NEWADDR, AF_INET, index), index);
  ip({"addr", "add", "10.9.0.1", "peer", "10.9.0.3/32", "dev", "lcqa"});
  ASSERT_EQ(watch_->await(RTM_NEWADDR, AF_INET, index), index);
  cache_->process_events();
  ASSERT_EQ(cache_->addresses(index).size(), 2u);
  ip({"addr", "del", "10.9.0.1", "peer", "10.9.0.2/32", "dev", "lcqa"});
  ASSERT_EQ(watch_->await(RTM_DELADDR, AF_INET, index), index);
  cache_->process_events();
  auto left = cache_->addresses(index);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].peer.to_string(), "10.9.0.3");
}

}  // namespace
}  // namespace netd::testing
