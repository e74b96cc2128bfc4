// IngressClassifier with real traffic: two netns joined by a veth, "peer" sends to "host".
// In host, netd's IFB of the veth (IfbExecutor) has an HTB root made with tc (classes 1:10,
// 1:20, 1:40; HTB's default 1:30) and the classifier runs at the veth's tcx ingress. A
// packet's class is the mark of the host socket it goes to (SO_MARK: the test is root), or
// its conntrack mark; the senders' and receivers' SO_PRIORITY change nothing. Also: restart
// adoption, detach, teardown composed with ShapeClassifier's, refusals. Classification is
// read from the IFB's class counters (`tc -s class`).
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstring>
#include <map>
#include <thread>

#include "lib/core/unique_fd.h"
#include "netd/kernel/bpf/ingress_classifier.h"
#include "netd/kernel/bpf/shape_classifier.h"
#include "netd/kernel/netlink/ifb.h"
#include "netd/kernel/netlink/nl_socket.h"
#include "tests/fixtures/eventually.h"
#include "tests/fixtures/json.h"
#include "tests/fixtures/netns.h"
#include "tests/fixtures/packet_builder.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/require_root.h"
#include "tests/fixtures/test_bpffs.h"
#include "tests/fixtures/test_macros.h"
#include "tests/fixtures/veth.h"
#include "tests/integration/shaping/shaping_probes.h"
#include "tests/integration/shaping/uplink_pair.h"

namespace netd::testing {
namespace {

using kernel::IngressClassifier;
using kernel::ShapeClassifier;

constexpr uint32_t kMask = 0x0fff0000;
constexpr uint32_t kMarkA = 7u << 16;
constexpr uint32_t kMarkB = 8u << 16;
constexpr uint32_t kClassA = 0x10010;        // 1:10
constexpr uint32_t kClassB = 0x10020;        // 1:20
constexpr uint32_t kClassDefault = 0x10040;  // 1:40 (HTB's own default is 1:30)
constexpr int kBpfTcxIngress = 46;           // not in Debian's 6.1 UAPI headers
constexpr int kBpfTcxEgress = 47;
constexpr const char* kHost4 = "10.9.0.1";
constexpr const char* kHost6 = "fd09::1";

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

sockaddr_storage address(const std::string& ip, uint16_t port) {
  sockaddr_storage ss{};
  if (ip.find(':') == std::string::npos) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    ::inet_pton(AF_INET, ip.c_str(), &sin->sin_addr);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    ::inet_pton(AF_INET6, ip.c_str(), &sin6->sin6_addr);
  }
  return ss;
}

socklen_t length_of(const sockaddr_storage& ss) {
  return ss.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
}

void set_int(int fd, int level, int option, int value) {
  ASSERT_EQ(::setsockopt(fd, level, option, &value, sizeof value), 0) << strerror(errno);
}

// The link id behind a pin (0 if none).
uint32_t link_id_of(const std::string& pin) {
  UniqueFd fd(bpf_obj_get(pin.c_str()));
  if (!fd.valid()) return 0;
  bpf_link_info info{};
  __u32 len = sizeof info;
  if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) return 0;
  return info.id;
}

class IngressClassifierTest : public UplinkPairTest {
 protected:
  void SetUp() override {
    UplinkPairTest::SetUp();
    if (!set_up()) return;
    ASSERT_OK_INTO(bpffs_, TestBpffsDir::create());
    run(*ns_, {"ip", "addr", "add", "fd09::1/64", "dev", "up0", "nodad"});
    run(*far_, {"ip", "addr", "add", "fd09::2/64", "dev", "upp", "nodad"});
    auto in_ns = ns_->enter();
    ASSERT_OK(in_ns);
    auto ifb = kernel::IfbExecutor(*sock_).ensure(uplink_, "up0");
    ASSERT_OK(ifb);
    ifb_ = *ifb;
    ifb_name_ = kernel::IfbControl::name_for(uplink_);
    run(*ns_, {"tc", "qdisc", "add", "dev", ifb_name_, "root", "handle", "1:", "htb", "default", "30"});
    for (const char* minor : {"10", "20", "30", "40"})
      run(*ns_, {"tc", "class", "add", "dev", ifb_name_, "parent", "1:", "classid", std::string("1:") + minor, "htb",
                 "rate", "1gbit", "burst", "128k", "cburst", "128k"});
  }

  static void run(const Netns& ns, const std::vector<std::string>& argv, const std::string& input = "") {
    ProcessResult r = run_in(&ns, argv, input);
    ASSERT_TRUE(r.ok()) << r.describe();
  }

  kernel::ShapeClassifierConfig config() const { return {bpffs_->path() + "/netd", kMask}; }
  std::string dir() const { return config().bpffs_dir + "/shaping"; }
  std::string link_pin() const { return dir() + "/ingress_" + std::to_string(uplink_); }

  Result<IngressClassifier> open_and_attach() {
    NETD_ASSIGN_OR_RETURN(IngressClassifier c, IngressClassifier::open(config()));
    NETD_ASSIGN_OR_RETURN(NetnsGuard in_ns, ns_->enter());
    NETD_TRY(c.attach(uplink_, ifb_));
    return c;
  }

  std::map<std::string, ClassCounters> counters() { return tc_class_counters(*ns_, ifb_name_); }

  // Waits until class `id` of the IFB has seen at least `n` packets; returns all counters.
  std::map<std::string, ClassCounters> packets_when(const std::string& id, uint64_t n) {
    std::map<std::string, ClassCounters> c;
    eventually([&] { return (c = counters())[id].packets >= n; });
    return c;
  }

  // A socket made inside `ns` (it stays there), with timeouts bounding a failing test.
  static UniqueFd socket_in(const Netns& ns, int family, int type) {
    auto in_ns = ns.enter();
    EXPECT_OK(in_ns);
    UniqueFd fd(::socket(family, type | SOCK_CLOEXEC, 0));
    EXPECT_TRUE(fd.valid()) << strerror(errno);
    timeval limit{20, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    return fd;
  }

  // A host socket of `type` bound to [::]:port (dual stack), marked with `mark` (0: none).
  UniqueFd host_socket(int type, uint16_t port, uint32_t mark) {
    UniqueFd fd = socket_in(*ns_, AF_INET6, type);
    set_int(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1);
    if (mark != 0) set_int(fd.get(), SOL_SOCKET, SO_MARK, static_cast<int>(mark));
    sockaddr_storage any = address("::", port);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&any), length_of(any)), 0) << strerror(errno);
    if (type == SOCK_STREAM) {
      EXPECT_EQ(::listen(fd.get(), 8), 0) << strerror(errno);
    }
    return fd;
  }

  // `count` datagrams of 300 bytes from the peer to host:port, with SO_PRIORITY `priority`
  // (0: none).
  void send_udp(const std::string& host, uint16_t port, int count, uint32_t priority = 0) {
    sockaddr_storage to = address(host, port);
    UniqueFd fd = socket_in(*far_, to.ss_family, SOCK_DGRAM);
    if (priority != 0) set_int(fd.get(), SOL_SOCKET, SO_PRIORITY, static_cast<int>(priority));
    const char payload[300] = {};
    for (int i = 0; i < count; ++i)
      ASSERT_EQ(::sendto(fd.get(), payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&to), length_of(to)),
                static_cast<ssize_t>(sizeof payload))
          << strerror(errno);
  }

  // Reads `count` datagrams from `fd` (the test fails after the socket's timeout).
  static void receive_udp(int fd, int count) {
    char buf[2048];
    for (int i = 0; i < count; ++i) ASSERT_GT(::recv(fd, buf, sizeof buf, 0), 0) << strerror(errno);
  }

  // A TCP connection from the peer to a host listener (made with host_socket) carrying
  // `bytes`, the peer's socket with SO_PRIORITY `priority` (0: none); returns what arrived.
  size_t tcp_transfer(int listener, uint16_t port, size_t bytes, uint32_t priority = 0) {
    sockaddr_storage to = address(kHost4, port);
    UniqueFd client = socket_in(*far_, AF_INET, SOCK_STREAM);
    if (priority != 0) set_int(client.get(), SOL_SOCKET, SO_PRIORITY, static_cast<int>(priority));
    EXPECT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&to), length_of(to)), 0) << strerror(errno);
    UniqueFd conn(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
    EXPECT_TRUE(conn.valid()) << strerror(errno);
    size_t received = 0;
    std::thread reader([&] {
      char buf[16384];
      ssize_t n;
      while ((n = ::recv(conn.get(), buf, sizeof buf, 0)) > 0) received += static_cast<size_t>(n);
    });
    std::string chunk(16384, 'x');
    for (size_t sent = 0; sent < bytes;) {
      ssize_t n = ::send(client.get(), chunk.data(), std::min(chunk.size(), bytes - sent), MSG_NOSIGNAL);
      if (n <= 0) {
        ADD_FAILURE() << "send: " << strerror(errno);
        break;
      }
      sent += static_cast<size_t>(n);
    }
    ::shutdown(client.get(), SHUT_WR);
    reader.join();
    // The peer ends with a reset; once the host's socket has taken it, every packet of the
    // flow has passed the IFB and its counters are final.
    linger abort{1, 0};
    EXPECT_EQ(::setsockopt(client.get(), SOL_SOCKET, SO_LINGER, &abort, sizeof abort), 0) << strerror(errno);
    client.reset();
    EXPECT_TRUE(eventually([&] {
      tcp_info info{};
      socklen_t len = sizeof info;
      return ::getsockopt(conn.get(), IPPROTO_TCP, TCP_INFO, &info, &len) == 0 && info.tcpi_state == TCP_CLOSE;
    }));
    return received;
  }

  uint32_t programs(int hook) { return tcx_programs(*ns_, uplink_, hook); }

  // Whether `bpftool -j link show` lists link `id`.
  bool link_listed(uint32_t id) {
    ProcessResult r = run_in(&*ns_, {"bpftool", "-j", "link", "show"});
    EXPECT_TRUE(r.ok()) << r.describe();
    nlohmann::json links = json_of(r.out);
    EXPECT_TRUE(links.is_array()) << r.out;
    for (const auto& l : links)
      if (l.value("id", 0u) == id) return true;
    return false;
  }

  // ns_ is the host (netd's netns, where up0 and its IFB are); far_ sends the downloads.
  std::optional<TestBpffsDir> bpffs_;
  int ifb_ = 0;
  std::string ifb_name_;
};

TEST_F(IngressClassifierTest, ReceivingSocketsMarkPicksTheClassPriorityCannot) {
  auto classifier = open_and_attach();
  ASSERT_OK(classifier);
  ASSERT_OK(classifier->sync({{kMarkA, kClassA}, {kMarkB, kClassB}}));
  EXPECT_EQ(programs(kBpfTcxIngress), 1u);

  // TCP to a marked listener (SO_PRIORITY of B's class on both ends): every packet of the
  // flow, from the SYN on, in A's class.
  constexpr size_t kBytes = 300000;
  UniqueFd listener = host_socket(SOCK_STREAM, 5001, kMarkA);
  set_int(listener.get(), SOL_SOCKET, SO_PRIORITY, static_cast<int>(kClassB));
  ASSERT_EQ(tcp_transfer(listener.get(), 5001, kBytes, kClassB), kBytes);
  auto c = counters();
  EXPECT_GE(c["1:10"].bytes, kBytes);
  EXPECT_EQ(c["1:20"].packets, 0u);
  EXPECT_LT(c["1:30"].bytes, kBytes / 10);  // ARP/ND housekeeping only

  // UDP to a marked socket, IPv4 and IPv6 (the sender asks for A's class).
  UniqueFd udp_b = host_socket(SOCK_DGRAM, 5002, kMarkB);
  send_udp(kHost4, 5002, 10, kClassA);
  send_udp(kHost6, 5002, 10, kClassA);
  receive_udp(udp_b.get(), 20);
  uint64_t a_packets = c["1:10"].packets;
  c = packets_when("1:20", 20);
  EXPECT_EQ(c["1:20"].packets, 20u);
  EXPECT_EQ(c["1:10"].packets, a_packets);

  // An unmarked socket: the default class, whatever the sender's priority.
  UniqueFd plain = host_socket(SOCK_DGRAM, 5003, 0);
  uint64_t default_before = c["1:30"].packets;
  send_udp(kHost4, 5003, 7, kClassA);
  receive_udp(plain.get(), 7);
  c = packets_when("1:30", default_before + 7);
  EXPECT_EQ(c["1:10"].packets, a_packets);
  EXPECT_EQ(c["1:20"].packets, 20u);

  // An explicit default (mark 0) takes traffic of no slice.
  ASSERT_OK(classifier->sync({{kMarkA, kClassA}, {kMarkB, kClassB}, {0, kClassDefault}}));
  send_udp(kHost6, 5003, 6, kClassB);
  receive_udp(plain.get(), 6);
  c = packets_when("1:40", 6);
  EXPECT_EQ(c["1:10"].packets, a_packets);
  EXPECT_EQ(c["1:20"].packets, 20u);
}

// A packet that is not a SYN but matches only a listener (a masqueraded flow whose NAT port is
// a wildcard listener's) takes its flow's conntrack mark; the listener's only when conntrack
// has none. Packets that no socket takes take their conntrack mark too.
TEST_F(IngressClassifierTest, ListenerMatchedByANonSynAsksConntrackFirst) {
  auto classifier = open_and_attach();
  ASSERT_OK(classifier);
  ASSERT_OK(classifier->sync({{kMarkA, kClassA}, {kMarkB, kClassB}}));
  // netd's nft gives flows their slice's ct mark; here: B for TCP 5010 and UDP 5011. The
  // hand-made packets below carry no transport checksum, which conntrack would refuse.
  ASSERT_OK(ns_->set_sysctl("net.netfilter.nf_conntrack_checksum", "0"));
  run(*ns_, {"nft", "-f", "-"},
      "table inet k14 {\n chain pre {\n type filter hook prerouting priority 0\n"
      " tcp dport 5010 ct mark set 0x00080000\n udp dport 5011 ct mark set 0x00080000\n }\n}\n");
  UniqueFd listener = host_socket(SOCK_STREAM, 5010, kMarkA);

  // A real connection: the established socket's mark wins over the ct mark.
  constexpr size_t kBytes = 100000;
  ASSERT_EQ(tcp_transfer(listener.get(), 5010, kBytes), kBytes);
  auto c = counters();
  EXPECT_GE(c["1:10"].bytes, kBytes);
  EXPECT_EQ(c["1:20"].packets, 0u);
  const uint64_t a_packets = c["1:10"].packets;

  // Bare ACKs to the listener's port: the first has no ct entry yet (the program runs before
  // netfilter), so it falls back to the listener; the others take the ct mark.
  UniqueFd raw;
  {
    auto in_far = far_->enter();
    ASSERT_OK(in_far);
    raw = UniqueFd(::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW));
    ASSERT_TRUE(raw.valid()) << strerror(errno);
  }
  packet::Bytes ack = packet::tcp_packet("10.9.0.2", 40000, kHost4, 5010, packet::kTcpAck);
  sockaddr_storage to = address(kHost4, 0);
  for (int i = 0; i < 4; ++i)
    ASSERT_EQ(::sendto(raw.get(), ack.data(), ack.size(), 0, reinterpret_cast<sockaddr*>(&to), length_of(to)),
              static_cast<ssize_t>(ack.size()))
        << strerror(errno);
  c = packets_when("1:20", 3);
  EXPECT_EQ(c["1:20"].packets, 3u);
  EXPECT_EQ(c["1:10"].packets, a_packets + 1);

  // UDP to a port without a socket: conntrack's mark from the second datagram on.
  uint64_t default_before = c["1:30"].packets;
  send_udp(kHost4, 5011, 4);
  c = packets_when("1:20", 3 + 3);
  EXPECT_EQ(c["1:20"].packets, 6u);
  EXPECT_GE(c["1:30"].packets, default_before + 1);
  EXPECT_EQ(c["1:10"].packets, a_packets + 1);
}

TEST_F(IngressClassifierTest, RestartAdoptsMapsAndLinkDetachRemovesThem) {
  {
    auto classifier = open_and_attach();
    ASSERT_OK(classifier);
    ASSERT_OK(classifier->sync({{kMarkA, kClassA}}));
  }
  EXPECT_TRUE(exists(dir() + "/classes_in"));
  EXPECT_TRUE(exists(dir() + "/ifb_in"));
  const uint32_t link_id = link_id_of(link_pin());
  ASSERT_NE(link_id, 0u);
  EXPECT_EQ(programs(kBpfTcxIngress), 1u);  // pinned: attached with no fd held
  UniqueFd udp_a = host_socket(SOCK_DGRAM, 5020, kMarkA);
  send_udp(kHost4, 5020, 3);
  receive_udp(udp_a.get(), 3);
  EXPECT_EQ(packets_when("1:10", 3)["1:10"].packets, 3u);

  auto again = IngressClassifier::open(config());
  ASSERT_OK(again);
  auto classes = again->classes();
  ASSERT_OK(classes);
  EXPECT_EQ(*classes, (std::map<uint32_t, uint32_t>{{kMarkA, kClassA}}));
  auto ifbs = again->ifbs();
  ASSERT_OK(ifbs);
  EXPECT_EQ(*ifbs, (std::map<uint32_t, uint32_t>{{uplink_, ifb_}}));
  {
    auto in_ns = ns_->enter();
    ASSERT_OK(in_ns);
    ASSERT_OK(again->attach(uplink_, ifb_));
    ASSERT_OK(again->attach(uplink_, ifb_));  // twice: still one link
  }
  EXPECT_EQ(link_id_of(link_pin()), link_id);  // the same link, its program swapped
  EXPECT_EQ(programs(kBpfTcxIngress), 1u);
  auto attached = again->attached();
  ASSERT_OK(attached);
  EXPECT_EQ(*attached, std::vector<int>{uplink_});
  auto listed = IngressClassifier::attached_in(config().bpffs_dir);
  ASSERT_OK(listed);
  EXPECT_EQ(*listed, std::vector<int>{uplink_});

  // The swapped-in program classifies, and sees later map changes.
  ASSERT_OK(again->sync({{kMarkA, kClassB}}));
  send_udp(kHost4, 5020, 4);
  receive_udp(udp_a.get(), 4);
  auto c = packets_when("1:20", 4);
  EXPECT_EQ(c["1:20"].packets, 4u);
  EXPECT_EQ(c["1:10"].packets, 3u);

  ASSERT_OK(again->detach(uplink_));
  EXPECT_EQ(programs(kBpfTcxIngress), 0u);
  EXPECT_FALSE(exists(link_pin()));
  EXPECT_FALSE(link_listed(link_id));
  ifbs = again->ifbs();
  ASSERT_OK(ifbs);
  EXPECT_TRUE(ifbs->empty());
  // Received without passing the IFB: its counters stay.
  send_udp(kHost4, 5020, 2);
  receive_udp(udp_a.get(), 2);
  c = counters();
  EXPECT_EQ(c["1:20"].packets, 4u);
  EXPECT_EQ(c["1:10"].packets, 3u);
  ASSERT_OK(again->detach(uplink_));  // nothing attached is fine
}

TEST_F(IngressClassifierTest, TeardownLeavesNothingAndComposesWithShapeClassifier) {
  auto egress = ShapeClassifier::open(config());
  ASSERT_OK(egress);
  {
    auto in_ns = ns_->enter();
    ASSERT_OK(in_ns);
    ASSERT_OK(egress->attach(uplink_));
  }
  {
    auto classifier = open_and_attach();
    ASSERT_OK(classifier);
    ASSERT_OK(classifier->sync({{kMarkA, kClassA}}));
  }
  const uint32_t in_link = link_id_of(link_pin());
  const uint32_t out_link = link_id_of(dir() + "/egress_" + std::to_string(uplink_));
  ASSERT_NE(in_link, 0u);
  ASSERT_NE(out_link, 0u);

  ASSERT_OK(IngressClassifier::teardown(config().bpffs_dir));
  EXPECT_EQ(programs(kBpfTcxIngress), 0u);
  EXPECT_FALSE(link_listed(in_link));
  for (const char* pin : {"classes_in", "ifb_in"}) EXPECT_FALSE(exists(dir() + "/" + pin)) << pin;
  EXPECT_FALSE(exists(link_pin()));
  EXPECT_EQ(programs(kBpfTcxEgress), 1u);  // the egress half is ShapeClassifier's
  EXPECT_TRUE(link_listed(out_link));

  ASSERT_OK(ShapeClassifier::teardown(config().bpffs_dir));  // finds shaping/ empty of ours
  EXPECT_FALSE(exists(config().bpffs_dir));
  EXPECT_FALSE(link_listed(out_link));
  EXPECT_EQ(programs(kBpfTcxEgress), 0u);
  ASSERT_OK(IngressClassifier::teardown(config().bpffs_dir));  // nothing left: fine
}

TEST_F(IngressClassifierTest, RefusalsChangeNothing) {
  EXPECT_ERR(IngressClassifier::open({config().bpffs_dir, 0}), EINVAL, "mark_mask is 0");
  auto classifier = IngressClassifier::open(config());
  ASSERT_OK(classifier);
  ASSERT_OK(classifier->sync({{kMarkA, kClassA}}));
  EXPECT_ERR(classifier->sync({{kMarkB, kClassB}, {0x1, kClassA}}), EINVAL, "outside mark_mask");
  EXPECT_ERR(classifier->sync({{kMarkB, 0x10000}}), EINVAL, "no HTB leaf class");
  EXPECT_ERR(classifier->sync({{kMarkB, 0xffff0001}}), EINVAL, "no HTB leaf class");
  auto classes = classifier->classes();
  ASSERT_OK(classes);
  EXPECT_EQ(*classes, (std::map<uint32_t, uint32_t>{{kMarkA, kClassA}}));
  {
    auto in_ns = ns_->enter();
    ASSERT_OK(in_ns);
    EXPECT_ERR(classifier->attach(0, ifb_), EINVAL, "uplink ifindex 0 is not a device");
    EXPECT_ERR(classifier->attach(uplink_, -1), EINVAL, "IFB ifindex -1 is not a device");
    EXPECT_ERR(classifier->attach(999, ifb_), ENODEV, "uplink ifindex 999");
    EXPECT_ERR(classifier->attach(uplink_, 999), ENODEV, "IFB ifindex 999");
    EXPECT_ERR(classifier->attach(uplink_, uplink_), EINVAL, "its own IFB");
  }
  EXPECT_EQ(programs(kBpfTcxIngress), 0u);
  auto ifbs = classifier->ifbs();
  ASSERT_OK(ifbs);
  EXPECT_TRUE(ifbs->empty());
  auto attached = classifier->attached();
  ASSERT_OK(attached);
  EXPECT_TRUE(attached->empty());
}

}  // namespace
}  // namespace netd::testing
