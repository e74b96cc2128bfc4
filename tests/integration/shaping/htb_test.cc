// HtbExecutor in a private netns on a veth: root + classes made over netlink, checked with
// `tc` (an independent reader; iproute2 6.1 prints HTB classes as text only, even with -j).
#include <linux/pkt_sched.h>
#include <net/if.h>

#include <sstream>

#include "netd/kernel/netlink/htb.h"
#include "netd/kernel/netlink/nl_socket.h"
#include "tests/fixtures/json.h"
#include "tests/fixtures/netns.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/require_root.h"
#include "tests/fixtures/test_macros.h"
#include "tests/fixtures/veth.h"
#include "tests/integration/shaping/uplink_pair.h"

namespace netd::testing {
namespace {

using kernel::HtbClassState;
using kernel::HtbExecutor;
using kernel::NlSocket;

constexpr uint32_t kMajor = 1;
constexpr uint32_t kClassA = 0x10010;  // 1:10
constexpr uint32_t kClassB = 0x10020;  // 1:20
constexpr uint32_t kDefaultMinor = 0x40;

class HtbTest : public UplinkPairTest {
 protected:

  std::string tc(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"tc"};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessResult r = run_in(&*ns_, argv);
    EXPECT_TRUE(r.ok()) << r.describe();
    return r.out;
  }

  // The `tc class show` line of class `id` ("1:10"), or "".
  std::string class_line(const std::string& id) {
    std::istringstream in(tc({"class", "show", "dev", "up0"}));
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("class htb " + id + " ", 0) == 0) return line;
    return "";
  }

  std::optional<HtbClassState> find(uint32_t classid) {
    auto all = HtbExecutor(*sock_).classes(uplink_);
    EXPECT_OK(all);
    if (!all.ok()) return std::nullopt;
    for (const auto& c : all.value())
      if (c.classid == classid) return c;
    return std::nullopt;
  }

  // The qdisc under class `id` ("1:10") from `tc -j qdisc show`, or null.
  nlohmann::json leaf_of(const std::string& id) {
    nlohmann::json all = json_of(tc({"-s", "-j", "qdisc", "show", "dev", "up0"}));
    EXPECT_TRUE(all.is_array()) << all.dump();
    if (!all.is_array()) return nullptr;
    for (const auto& q : all)
      if (q.value("parent", "") == id) return q;
    return nullptr;
  }

  // Sends `count` pings through up0 (unmarked: they land in the default class or, with
  // `priority`, nowhere else), so class counters move.
  void ping(int count) {
    ProcessResult r = run_in(&*ns_, {"ping", "-q", "-c", std::to_string(count), "-i", "0.01", "-W", "1", "10.9.0.2"});
    EXPECT_TRUE(r.ok()) << r.describe();
  }

};

TEST_F(HtbTest, RootClassesChangeInPlaceRemoveTeardown) {
  HtbExecutor htb(*sock_);
  ASSERT_OK(htb.ensure_root(uplink_, kMajor, kDefaultMinor));
  std::string qdisc = tc({"qdisc", "show", "dev", "up0"});
  EXPECT_NE(qdisc.find("qdisc htb 1: root"), std::string::npos) << qdisc;
  EXPECT_NE(qdisc.find("default 0x40"), std::string::npos) << qdisc;  // the minor, as tc prints it

  ASSERT_OK(htb.set_class(uplink_, kClassA, 10'000'000, 20'000'000));
  ASSERT_OK(htb.set_class(uplink_, kClassB, 50'000'000, 0));
  ASSERT_OK(htb.set_class(uplink_, 0x10000 | kDefaultMinor, 1'000'000'000, 0));
  std::string a = class_line("1:10");
  EXPECT_NE(a.find("class htb 1:10 root "), std::string::npos) << a;  // a child of the qdisc: HTB's "root" level
  EXPECT_NE(a.find("rate 10Mbit ceil 20Mbit"), std::string::npos) << a;
  EXPECT_NE(class_line("1:20").find("rate 50Mbit ceil 50Mbit"), std::string::npos) << class_line("1:20");

  auto sa = find(kClassA);
  ASSERT_TRUE(sa);
  EXPECT_EQ(sa->parent, TC_H_ROOT);
  EXPECT_EQ(sa->rate_bps, 10'000'000u);
  EXPECT_EQ(sa->ceil_bps, 20'000'000u);
  // Buffers as set (±1 B of tick rounding), not libnl's or tc's one-frame defaults.
  EXPECT_NEAR(sa->burst_bytes, kernel::htb_burst_bytes(10'000'000), 2);
  EXPECT_NEAR(sa->cburst_bytes, kernel::htb_burst_bytes(20'000'000), 2);
  EXPECT_EQ(sa->quantum, kernel::htb_quantum(10'000'000));
  auto sd = find(0x10040);
  ASSERT_TRUE(sd);
  EXPECT_NEAR(sd->burst_bytes, kernel::htb_burst_bytes(1'000'000'000), 2);
  EXPECT_EQ(sd->quantum, 200000u);

  // Unmarked traffic goes to the default class; a change of its rate keeps its counters.
  ping(5);
  sd = find(0x10040);
  ASSERT_TRUE(sd);
  EXPECT_GE(sd->packets, 5u);
  uint64_t before = sd->packets;
  ASSERT_OK(htb.set_class(uplink_, 0x10040, 100'000'000, 0));
  sd = find(0x10040);
  ASSERT_TRUE(sd);
  EXPECT_EQ(sd->rate_bps, 100'000'000u);
  EXPECT_GE(sd->packets, before);  // same kernel class: not reset to 0
  EXPECT_NE(class_line("1:40").find("rate 100Mbit"), std::string::npos) << class_line("1:40");

  // ensure_root again: nothing is replaced, so the classes stay.
  ASSERT_OK(htb.ensure_root(uplink_, kMajor, kDefaultMinor));
  EXPECT_TRUE(find(kClassA));
  sd = find(0x10040);
  ASSERT_TRUE(sd);
  EXPECT_GE(sd->packets, before);

  ASSERT_OK(htb.remove_class(uplink_, kClassB));
  EXPECT_EQ(class_line("1:20"), "");
  EXPECT_FALSE(find(kClassB));
  ASSERT_OK(htb.remove_class(uplink_, kClassB));  // gone already: fine

  ASSERT_OK(htb.remove_root(uplink_, kMajor));
  qdisc = tc({"qdisc", "show", "dev", "up0"});
  EXPECT_EQ(qdisc.find("htb"), std::string::npos) << qdisc;
  auto left = htb.classes(uplink_);
  ASSERT_OK(left);
  EXPECT_TRUE(left.value().empty());
  ASSERT_OK(htb.remove_root(uplink_, kMajor));  // nothing there: fine
}

// find_class asks the kernel for one class by id: the same values a dump gives, and nothing
// (not an error) for a class, or an HTB major, the device does not have.
TEST_F(HtbTest, OneClassAskedForByItsId) {
  HtbExecutor htb(*sock_);
  auto none = htb.find_class(uplink_, kClassA);
  ASSERT_OK(none);
  EXPECT_FALSE(*none) << "no HTB root at all";
  ASSERT_OK(htb.ensure_root(uplink_, kMajor, kDefaultMinor));
  ASSERT_OK(htb.set_class(uplink_, kClassA, 10'000'000, 20'000'000));
  ASSERT_OK(htb.set_class(uplink_, 0x10000 | kDefaultMinor, 1'000'000'000, 0));
  ping(3);
  auto a = htb.find_class(uplink_, kClassA);
  ASSERT_OK(a);
  ASSERT_TRUE(*a);
  auto dumped = find(kClassA);
  ASSERT_TRUE(dumped);
  EXPECT_EQ((*a)->rate_bps, 10'000'000u);
  EXPECT_EQ((*a)->ceil_bps, 20'000'000u);
  EXPECT_EQ((*a)->parent, dumped->parent);
  EXPECT_EQ((*a)->quantum, dumped->quantum);
  auto fallback = htb.find_class(uplink_, 0x10000 | kDefaultMinor);
  ASSERT_OK(fallback);
  ASSERT_TRUE(*fallback);
  EXPECT_GE((*fallback)->packets, 3u) << "counters come with it";
  auto absent = htb.find_class(uplink_, kClassB);
  ASSERT_OK(absent);
  EXPECT_FALSE(*absent);
  auto other_major = htb.find_class(uplink_, 0x20010);
  ASSERT_OK(other_major);
  EXPECT_FALSE(*other_major);
  EXPECT_ERR(htb.find_class(999999, kClassA), ENODEV, "reading class 1:10");
}

TEST_F(HtbTest, EnsureRootReplacesForeignRootsAndChangesTheDefault) {
  HtbExecutor htb(*sock_);
  tc({"qdisc", "add", "dev", "up0", "root", "handle", "5:", "tbf", "rate", "1mbit", "burst", "10k", "latency", "50ms"});
  ASSERT_OK(htb.ensure_root(uplink_, kMajor, kDefaultMinor));
  auto root = htb.root(uplink_);
  ASSERT_OK(root);
  ASSERT_TRUE(root.value());
  EXPECT_EQ(root.value()->kind, "htb");
  EXPECT_EQ(root.value()->handle, 0x10000u);
  EXPECT_EQ(root.value()->default_minor, kDefaultMinor);

  // Another default: the root is remade (HTB has no in-place change of defcls).
  ASSERT_OK(htb.ensure_root(uplink_, kMajor, 0x30));
  root = htb.root(uplink_);
  ASSERT_OK(root);
  ASSERT_TRUE(root.value());
  EXPECT_EQ(root.value()->default_minor, 0x30u);

  // remove_root leaves an HTB with another handle alone.
  tc({"qdisc", "replace", "dev", "up0", "root", "handle", "7:", "htb", "default", "1"});
  ASSERT_OK(htb.remove_root(uplink_, kMajor));
  EXPECT_NE(tc({"qdisc", "show", "dev", "up0"}).find("qdisc htb 7: root"), std::string::npos);
}

// 40 Gbit is 5e9 B/s: past the 32-bit rate field, so it travels in TCA_HTB_RATE64/CEIL64.
TEST_F(HtbTest, RatesAbove32BitsOfBytes) {
  HtbExecutor htb(*sock_);
  ASSERT_OK(htb.ensure_root(uplink_, kMajor, kDefaultMinor));
  ASSERT_OK(htb.set_class(uplink_, kClassA, 40'000'000'000, 80'000'000'000));
  auto sa = find(kClassA);
  ASSERT_TRUE(sa);
  EXPECT_EQ(sa->rate_bps, 40'000'000'000u);
  EXPECT_EQ(sa->ceil_bps, 80'000'000'000u);
  EXPECT_NE(class_line("1:10").find("rate 40Gbit ceil 80Gbit"), std::string::npos) << class_line("1:10");
}

TEST_F(HtbTest, RefusesBadArguments) {
  HtbExecutor htb(*sock_);
  EXPECT_ERR(htb.ensure_root(uplink_, kMajor, 0), EINVAL, "minor");  // 0 = HTB_DIRECT
  ASSERT_OK(htb.ensure_root(uplink_, kMajor, kDefaultMinor));
  EXPECT_ERR(htb.set_class(uplink_, 0x10000, 1'000'000, 0), EINVAL, "minor");
  EXPECT_ERR(htb.set_class(uplink_, kClassA, 2'000'000, 1'000'000), EINVAL, "ceil");
  // A classid whose major is not the root's: the kernel refuses it.
  Status other = htb.set_class(uplink_, 0x20010, 1'000'000, 0);
  EXPECT_FALSE(other.ok());
}

// The leaf under a class: a bfifo with a byte limit, adopted as it is, changed in place,
// swapped in for any other leaf; reported by classes().
TEST_F(HtbTest, LeafBfifoSetAdoptedChanged) {
  HtbExecutor htb(*sock_);
  ASSERT_OK(htb.ensure_root(uplink_, kMajor, kDefaultMinor));
  ASSERT_OK(htb.set_class(uplink_, kClassA, 10'000'000, 0));
  ASSERT_OK(htb.set_class(uplink_, kClassB, 10'000'000, 0));
  EXPECT_EQ(find(kClassA)->leaf_limit_bytes, 0u);  // HTB's own pfifo

  ASSERT_OK(htb.set_leaf_bfifo(uplink_, kClassA, 100'000));
  nlohmann::json leaf = leaf_of("1:10");
  EXPECT_EQ(leaf["kind"], "bfifo") << leaf.dump();
  EXPECT_EQ(leaf["options"]["limit"], 100'000) << leaf.dump();
  const std::string handle = leaf.value("handle", "");
  EXPECT_EQ(find(kClassA)->leaf_limit_bytes, 100'000u);
  EXPECT_EQ(find(kClassB)->leaf_limit_bytes, 0u);

  // Same limit again: changed in place, i.e. not at all (the qdisc and its counters stay).
  ping(3);
  const uint64_t sent = leaf_of("1:10").value("packets", uint64_t{0});
  ASSERT_OK(htb.set_leaf_bfifo(uplink_, kClassA, 100'000));
  EXPECT_EQ(leaf_of("1:10").value("handle", ""), handle);
  EXPECT_EQ(leaf_of("1:10").value("packets", uint64_t{0}), sent);

  // Another limit: changed in place (same handle).
  ASSERT_OK(htb.set_leaf_bfifo(uplink_, kClassA, 1'000'000));
  leaf = leaf_of("1:10");
  EXPECT_EQ(leaf.value("handle", ""), handle);
  EXPECT_EQ(leaf["options"]["limit"], 1'000'000);
  EXPECT_EQ(find(kClassA)->leaf_limit_bytes, 1'000'000u);

  // Any other leaf is replaced.
  tc({"qdisc", "replace", "dev", "up0", "parent", "1:20", "pfifo", "limit", "5"});
  EXPECT_EQ(leaf_of("1:20")["kind"], "pfifo");
  EXPECT_EQ(find(kClassB)->leaf_limit_bytes, 0u);
  ASSERT_OK(htb.set_leaf_bfifo(uplink_, kClassB, 64'000));
  leaf = leaf_of("1:20");
  EXPECT_EQ(leaf["kind"], "bfifo");
  EXPECT_EQ(leaf["options"]["limit"], 64'000);
  EXPECT_EQ(leaf_of("1:10")["options"]["limit"], 1'000'000);  // the other class's leaf untouched

  EXPECT_ERR(htb.set_leaf_bfifo(uplink_, 0x10030, 64'000), ENOENT, "1:30");  // no such class
  EXPECT_ERR(htb.set_leaf_bfifo(uplink_, kClassA, 0), EINVAL, "limit");
  EXPECT_ERR(htb.set_leaf_bfifo(uplink_, 0x10000, 64'000), EINVAL, "minor");
  EXPECT_EQ(leaf_of("1:10")["options"]["limit"], 1'000'000);
}

}  // namespace
}  // namespace netd::testing
