// ShapeClassifier: marked packets land in their slice's HTB class whatever SO_PRIORITY the
// socket sets; the pinned map and per-device links are adopted on restart (one program per
// device) and teardown leaves nothing. The HTB root with classes 1:10, 1:20, 1:40 and
// default 1:30 is made with tc on up0; classification is checked with the class counters of `tc -s`.
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>

#include <chrono>
#include <map>

#include "lib/core/unique_fd.h"
#include "netd/kernel/bpf/shape_classifier.h"
#include "tests/fixtures/eventually.h"
#include "tests/fixtures/netns.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/require_root.h"
#include "tests/fixtures/test_bpffs.h"
#include "tests/fixtures/test_macros.h"
#include "tests/fixtures/veth.h"
#include "tests/integration/shaping/shaping_probes.h"

namespace netd::testing {
namespace {

using kernel::ShapeClassifier;

constexpr uint32_t kMask = 0x0fff0000;
constexpr uint32_t kMarkA = 7u << 16;
constexpr uint32_t kMarkB = 8u << 16;
constexpr uint32_t kMarkUnknown = 9u << 16;  // a slice mark without a class
constexpr uint32_t kClassA = 0x10010;        // 1:10
constexpr uint32_t kClassB = 0x10020;        // 1:20
constexpr uint32_t kClassDefault = 0x10040;  // 1:40 (HTB's own default is 1:30)
constexpr uint32_t kQdiscHandle = 0x10000;   // 1: (priority == handle: HTB sends unshaped)
constexpr int kBpfTcxEgress = 47;            // not in Debian's 6.1 UAPI headers

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

class ShapeClassifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NETD_REQUIRE_ROOT();
    for (auto* ns : {&ns_, &far_}) ASSERT_OK_INTO(*ns, Netns::create());
    ASSERT_OK_INTO(bpffs_, TestBpffsDir::create());
    ASSERT_OK(add_veth_pair({&*ns_, "up0", "10.9.0.1/24"}, {&*far_, "upp", "10.9.0.2/24"}));
    {
      auto in_ns = ns_->enter();
      ASSERT_OK(in_ns);
      ifindex_ = static_cast<int>(::if_nametoindex("up0"));
    }
    ASSERT_GT(ifindex_, 0);
    add_htb();
  }

  void add_htb() {
    tc({"qdisc", "add", "dev", "up0", "root", "handle", "1:", "htb", "default", "30"});
    for (const char* minor : {"10", "20", "30", "40"})
      tc({"class", "add", "dev", "up0", "parent", "1:", "classid", std::string("1:") + minor, "htb", "rate", "1gbit",
          "burst", "128k", "cburst", "128k"});
  }

  void ip(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"ip"};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessResult r = run_in(&*ns_, argv);
    ASSERT_TRUE(r.ok()) << r.describe();
  }

  kernel::ShapeClassifierConfig config() const { return {bpffs_->path() + "/netd", kMask}; }
  std::string dir() const { return config().bpffs_dir + "/shaping"; }

  Result<ShapeClassifier> open_and_attach() {
    NETD_ASSIGN_OR_RETURN(ShapeClassifier c, ShapeClassifier::open(config()));
    NETD_ASSIGN_OR_RETURN(NetnsGuard in_ns, ns_->enter());
    NETD_TRY(c.attach(ifindex_));
    return c;
  }

  void tc(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"tc"};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessResult r = run_in(&*ns_, argv);
    ASSERT_TRUE(r.ok()) << r.describe();
  }

  // Packets each HTB class of up0 sent ("1:10" → n).
  std::map<std::string, uint64_t> class_packets() {
    std::map<std::string, uint64_t> packets;
    for (const auto& [id, c] : tc_class_counters(*ns_, "up0")) packets[id] = c.packets;
    return packets;
  }

  // Waits until class `id` has sent at least `n` packets; returns the counters.
  std::map<std::string, uint64_t> packets_when(const std::string& id, uint64_t n) {
    std::map<std::string, uint64_t> packets;
    eventually([&] { return (packets = class_packets())[id] >= n; });
    return packets;
  }

  // `count` UDP datagrams from up0's netns to the far end, from a socket with SO_MARK `mark`
  // (0: none) and, if given, SO_PRIORITY `priority`.
  void send_udp(uint32_t mark, std::optional<uint32_t> priority, int count) {
    auto in_ns = ns_->enter();
    ASSERT_OK(in_ns);
    UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(fd.valid()) << strerror(errno);
    if (mark != 0) {
      ASSERT_EQ(::setsockopt(fd.get(), SOL_SOCKET, SO_MARK, &mark, sizeof mark), 0) << strerror(errno);
    }
    if (priority) {
      int p = static_cast<int>(*priority);
      ASSERT_EQ(::setsockopt(fd.get(), SOL_SOCKET, SO_PRIORITY, &p, sizeof p), 0) << strerror(errno);
    }
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(9);
    ASSERT_EQ(::inet_pton(AF_INET, "10.9.0.2", &to.sin_addr), 1);
    const char payload[200] = {};
    for (int i = 0; i < count; ++i)
      ASSERT_EQ(::sendto(fd.get(), payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
                static_cast<ssize_t>(sizeof payload))
          << strerror(errno);
  }

  uint32_t egress_programs() { return tcx_programs(*ns_, ifindex_, kBpfTcxEgress); }

  std::optional<Netns> ns_;   // netd's netns, where the uplink up0 is
  std::optional<Netns> far_;  // the other end of up0
  std::optional<TestBpffsDir> bpffs_;
  int ifindex_ = 0;
};

TEST_F(ShapeClassifierTest, MarksPickTheClassAndSoPriorityCannot) {
  // Without the classifier, SO_PRIORITY alone picks an HTB class: the escape to close.
  send_udp(0, kClassA, 2);
  EXPECT_EQ(packets_when("1:10", 2)["1:10"], 2u);

  auto classifier = open_and_attach();
  ASSERT_OK(classifier);
  ASSERT_OK(classifier->sync({{kMarkA, kClassA}, {kMarkB, kClassB}}));
  EXPECT_EQ(egress_programs(), 1u);

  send_udp(kMarkA, std::nullopt, 10);
  send_udp(kMarkA, kQdiscHandle, 2);     // would be sent unshaped (HTB_DIRECT)
  send_udp(kMarkB, std::nullopt, 5);
  send_udp(kMarkB, kClassA, 3);          // another slice's class
  send_udp(0, kClassA, 7);               // unmarked → default 1:30
  send_udp(kMarkUnknown, kClassA, 4);    // slice without a class → default
  auto packets = packets_when("1:30", 11);
  packets = packets_when("1:20", 8);
  packets = packets_when("1:10", 2u + 12u);
  EXPECT_EQ(packets["1:10"], 2u + 12u);
  EXPECT_EQ(packets["1:20"], 8u);
  EXPECT_GE(packets["1:30"], 11u);  // plus ARP/IPv6 housekeeping

  // An explicit default (mark 0) takes unmarked traffic and classless slices (and the
  // device's own ARP/IPv6 housekeeping: hence no exact count there).
  ASSERT_OK(classifier->sync({{kMarkA, kClassA}, {kMarkB, kClassB}, {0, kClassDefault}}));
  send_udp(0, kClassA, 6);
  send_udp(kMarkUnknown, std::nullopt, 1);
  packets = packets_when("1:40", 7);
  EXPECT_GE(packets["1:40"], 7u);
  EXPECT_EQ(packets["1:10"], 14u);
  EXPECT_EQ(packets["1:20"], 8u);
}

TEST_F(ShapeClassifierTest, RestartAdoptsMapAndLinkOnePerDevice) {
  {
    auto classifier = open_and_attach();
    ASSERT_OK(classifier);
    ASSERT_OK(classifier->sync({{kMarkA, kClassA}}));
  }
  EXPECT_TRUE(exists(dir() + "/classes"));
  EXPECT_TRUE(exists(dir() + "/egress_" + std::to_string(ifindex_)));
  EXPECT_EQ(egress_programs(), 1u);  // pinned: attached with no fd held
  send_udp(kMarkA, std::nullopt, 3);
  EXPECT_EQ(packets_when("1:10", 3)["1:10"], 3u);

  auto again = open_and_attach();
  ASSERT_OK(again);
  auto classes = again->classes();
  ASSERT_OK(classes);
  EXPECT_EQ(*classes, (std::map<uint32_t, uint32_t>{{kMarkA, kClassA}}));
  EXPECT_EQ(egress_programs(), 1u);
  {
    auto in_ns = ns_->enter();
    ASSERT_OK(in_ns);
    ASSERT_OK(again->attach(ifindex_));  // attaching twice keeps one link
  }
  EXPECT_EQ(egress_programs(), 1u);
  auto attached = again->attached();
  ASSERT_OK(attached);
  EXPECT_EQ(*attached, std::vector<int>{ifindex_});

  // The swapped-in program classifies as before, and sees later map changes.
  ASSERT_OK(again->sync({{kMarkA, kClassB}}));
  send_udp(kMarkA, std::nullopt, 4);
  auto packets = packets_when("1:20", 4);
  EXPECT_EQ(packets["1:20"], 4u);
  EXPECT_EQ(packets["1:10"], 3u);

  ASSERT_OK(again->detach(ifindex_));
  EXPECT_EQ(egress_programs(), 0u);
  EXPECT_FALSE(exists(dir() + "/egress_" + std::to_string(ifindex_)));
  ASSERT_OK(again->detach(ifindex_));  // nothing attached is fine
}

TEST_F(ShapeClassifierTest, LinkOfARemovedDeviceIsReplaced) {
  auto classifier = open_and_attach();
  ASSERT_OK(classifier);
  ASSERT_OK(classifier->sync({{kMarkA, kClassA}}));
  // The device goes (its tcx link stays pinned but detached) and another one gets its
  // ifindex: attach must not adopt the dead link, whose update would succeed and do nothing.
  ip({"link", "del", "up0"});
  const std::string index = std::to_string(ifindex_);
  ip({"link", "add", "up0", "index", index, "type", "veth", "peer", "name", "upp", "netns", far_->name()});
  ip({"addr", "add", "10.9.0.1/24", "dev", "up0"});
  ip({"link", "set", "up0", "up"});
  for (std::vector<std::string> argv : {std::vector<std::string>{"ip", "addr", "add", "10.9.0.2/24", "dev", "upp"},
                                        std::vector<std::string>{"ip", "link", "set", "upp", "up"}}) {
    ProcessResult r = run_in(&*far_, argv);  // the far end answers ARP, so the packets leave
    ASSERT_TRUE(r.ok()) << r.describe();
  }
  add_htb();
  EXPECT_EQ(egress_programs(), 0u);
  {
    auto in_ns = ns_->enter();
    ASSERT_OK(in_ns);
    ASSERT_OK(classifier->attach(ifindex_));
  }
  EXPECT_EQ(egress_programs(), 1u);
  send_udp(kMarkA, std::nullopt, 3);
  EXPECT_EQ(packets_when("1:10", 3)["1:10"], 3u);
}

TEST_F(ShapeClassifierTest, TeardownLeavesNothing) {
  {
    auto classifier = open_and_attach();
    ASSERT_OK(classifier);
    ASSERT_OK(classifier->sync({{kMarkA, kClassA}}));
  }
  ASSERT_OK(ShapeClassifier::teardown(config().bpffs_dir));
  EXPECT_EQ(egress_programs(), 0u);
  EXPECT_FALSE(exists(config().bpffs_dir));
  uint64_t default_before = class_packets()["1:30"];
  send_udp(kMarkA, std::nullopt, 3);  // back to HTB's default class
  auto packets = packets_when("1:30", default_before + 3);
  EXPECT_EQ(packets["1:10"], 0u);
  ASSERT_OK(ShapeClassifier::teardown(config().bpffs_dir));  // twice is fine
}

TEST_F(ShapeClassifierTest, SyncRefusesBadEntriesAndChangesNothing) {
  auto classifier = ShapeClassifier::open(config());
  ASSERT_OK(classifier);
  ASSERT_OK(classifier->sync({{kMarkA, kClassA}}));
  EXPECT_ERR(classifier->sync({{kMarkB, kClassB}, {0x1, kClassA}}), EINVAL, "outside mark_mask");
  EXPECT_ERR(classifier->sync({{kMarkB, kQdiscHandle}}), EINVAL, "no HTB leaf class");
  EXPECT_ERR(classifier->sync({{kMarkB, 0xffff0001}}), EINVAL, "no HTB leaf class");
  auto classes = classifier->classes();
  ASSERT_OK(classes);
  EXPECT_EQ(*classes, (std::map<uint32_t, uint32_t>{{kMarkA, kClassA}}));
  {
    auto in_ns = ns_->enter();
    ASSERT_OK(in_ns);
    EXPECT_ERR(classifier->attach(0), EINVAL, "not a device");
    EXPECT_ERR(classifier->attach(999), ENODEV, "ifindex 999");
  }
  EXPECT_OK(ShapeClassifier::teardown(config().bpffs_dir));
}

}  // namespace
}  // namespace netd::testing
