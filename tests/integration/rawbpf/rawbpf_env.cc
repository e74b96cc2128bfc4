#include "tests/integration/rawbpf/rawbpf_env.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>

#include "tests/fixtures/eventually.h"
#include "tests/fixtures/require_root.h"
#include "tests/fixtures/veth.h"

namespace netd::testing {
namespace {

Status add_v6(const Netns& netns, const std::string& address, const std::string& dev) {
  ProcessResult r = run_in(&netns, {"ip", "addr", "add", address, "dev", dev, "nodad"});
  if (!r.ok()) return make_error(EIO, "ip addr add " + address + ": " + r.describe());
  return ok_status();
}

std::string ntop(int family, const uint8_t* bytes) {
  char buf[INET6_ADDRSTRLEN] = "?";
  ::inet_ntop(family, bytes, buf, sizeof buf);
  return buf;
}

Seen parse(const uint8_t* p, size_t n, bool ethernet) {
  Seen s;
  size_t off = 0;
  int ethertype = 0;
  if (ethernet) {
    if (n < 14) return s;
    ethertype = (p[12] << 8) | p[13];
    off = 14;
  } else if (n > 0) {
    ethertype = (p[0] >> 4) == 4 ? ETH_P_IP : ETH_P_IPV6;
  }
  size_t l4 = 0;
  bool first_fragment = true;
  if (ethertype == ETH_P_IP && n >= off + 20) {
    s.proto = p[off + 9];
    s.src = ntop(AF_INET, p + off + 12);
    s.dst = ntop(AF_INET, p + off + 16);
    first_fragment = ((p[off + 6] & 0x1f) | p[off + 7]) == 0;
    l4 = off + (p[off] & 0xf) * 4u;
  } else if (ethertype == ETH_P_IPV6 && n >= off + 40) {
    s.proto = p[off + 6];
    s.src = ntop(AF_INET6, p + off + 8);
    s.dst = ntop(AF_INET6, p + off + 24);
    l4 = off + 40;
  } else {
    return s;
  }
  if (!first_fragment || n < l4 + 8) return s;
  if (s.proto == IPPROTO_TCP || s.proto == IPPROTO_UDP) {
    s.sport = (p[l4] << 8) | p[l4 + 1];
    s.dport = (p[l4 + 2] << 8) | p[l4 + 3];
    if (s.proto == IPPROTO_TCP && n >= l4 + 14) {
      s.syn = p[l4 + 13] & 0x02;
      s.ack = p[l4 + 13] & 0x10;
    }
  } else if (s.proto == IPPROTO_ICMP || s.proto == IPPROTO_ICMPV6) {
    s.icmp_type = p[l4];
    s.icmp_id = (p[l4 + 4] << 8) | p[l4 + 5];
  }
  return s;
}

}  // namespace

std::string Seen::to_string() const {
  std::string text = "if" + std::to_string(ifindex) + "/t" + std::to_string(pkttype) + " p" + std::to_string(proto) +
                     " " + src + ":" + std::to_string(sport) + ">" + dst + ":" + std::to_string(dport);
  if (syn) text += " S";
  if (ack) text += " A";
  if (icmp_type >= 0) text += " icmp " + std::to_string(icmp_type) + " id " + std::to_string(icmp_id);
  return text;
}

bool any_of(const std::vector<Seen>& seen, const std::function<bool(const Seen&)>& pred) {
  for (const Seen& s : seen)
    if (pred(s)) return true;
  return false;
}

std::string describe(const std::vector<Seen>& seen) {
  std::string text = std::to_string(seen.size()) + " packets:";
  for (const Seen& s : seen) text += "\n  " + s.to_string();
  return text;
}

void RawBpfTest::SetUp() {
  NETD_REQUIRE_ROOT();
  for (auto* ns : {&ns_, &far_}) ASSERT_OK_INTO(*ns, Netns::create());
  ASSERT_OK_INTO(cgroup_, TestCgroup::create());
  ASSERT_OK_INTO(bpffs_, TestBpffsDir::create());
  ASSERT_OK(add_veth_pair({&*ns_, "up0", "10.8.0.1/24"}, {&*far_, "upp0", "10.8.0.2/24"}));
  ASSERT_OK(add_v6(*ns_, "fd08::1/64", "up0"));
  ASSERT_OK(add_v6(*far_, "fd08::2/64", "upp0"));
  ASSERT_OK(add_veth_pair({&*ns_, "up1", "10.9.0.1/24"}, {&*far_, "upp1", "10.9.0.2/24"}));
  // Slice members ping through ping sockets, as the design asks of plain ICMP echo.
  ASSERT_OK(ns_->set_sysctl("net.ipv4.ping_group_range", "0 2147483647"));

  const kernel::FlowRecorderConfig c = config();
  ASSERT_OK_INTO(tagger_, kernel::SliceTagger::open({c.bpffs_dir, c.cgroup_path, kMask}));
  ASSERT_OK(tagger_->sync({{kAlice, kAliceMark}, {kBob, kBobMark}}, {}));
  {
    auto in_host = ns_->enter();
    ASSERT_OK(in_host);
    ASSERT_OK_INTO(guard_, kernel::VifGuard::open({c.bpffs_dir, c.cgroup_path, kMask}));
  }
  ASSERT_OK_INTO(recorder_, open_recorder());
  ASSERT_OK(recorder_->record_egress());
  auto maps = kernel::RawFilterMaps::open_pinned(c.bpffs_dir);
  ASSERT_OK(maps);
  ASSERT_OK_INTO(filters_, kernel::RawFilters::create(std::move(maps).value(), kMask));

  ASSERT_OK_INTO(echo_, spawn_in(&*far_, {RAWBPF_PROBE, "echo", "::", std::to_string(kEchoPort)}));
  ASSERT_TRUE(echo_->read_line().has_value()) << "echo server did not start: " << echo_->wait().describe();
}

kernel::FlowRecorderConfig RawBpfTest::config() const {
  return kernel::FlowRecorderConfig{bpffs_->path() + "/netd", cgroup_->path(), kMask, kRawFlag};
}

Result<kernel::FlowRecorder> RawBpfTest::open_recorder() {
  NETD_ASSIGN_OR_RETURN(NetnsGuard in_host, ns_->enter());
  return kernel::FlowRecorder::open(config());
}

UniqueFd RawBpfTest::host_socket(int domain, int type, int protocol) {
  auto in_host = ns_->enter();
  EXPECT_OK(in_host);
  UniqueFd fd(::socket(domain, type | SOCK_CLOEXEC, protocol));
  EXPECT_TRUE(fd.valid()) << std::strerror(errno);
  return fd;
}

int RawBpfTest::host_ifindex(const std::string& ifname) {
  auto in_host = ns_->enter();
  EXPECT_OK(in_host);
  return static_cast<int>(::if_nametoindex(ifname.c_str()));
}

UniqueFd RawBpfTest::packet_socket(int prog, const std::string& ifname) {
  // Protocol 0: nothing is queued until bind, by which time the filter is locked in.
  UniqueFd fd = host_socket(AF_PACKET, SOCK_RAW, 0);
  if (!fd.valid()) return fd;
  EXPECT_OK(kernel::attach_locked_filter(fd.get(), prog));
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = ifname.empty() ? 0 : host_ifindex(ifname);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&sll), sizeof sll), 0) << std::strerror(errno);
  return fd;
}

std::vector<Seen> RawBpfTest::drain(int fd, bool ethernet, const std::function<bool(const std::vector<Seen>&)>& until) {
  std::vector<Seen> seen;
  uint8_t buf[2048];
  auto read_queued = [&] {
    for (;;) {
      sockaddr_ll from{};
      socklen_t len = sizeof from;
      ssize_t n = ::recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 0) break;
      Seen s = parse(buf, static_cast<size_t>(n), ethernet);
      if (from.sll_family == AF_PACKET) {
        s.ifindex = from.sll_ifindex;
        s.pkttype = from.sll_pkttype;
      }
      seen.push_back(s);
    }
  };
  auto deadline = std::chrono::steady_clock::now() + kEventTimeout;
  read_queued();
  while (!until(seen)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ADD_FAILURE() << "the socket never received what the test waits for; it got:\n" << describe(seen);
      break;
    }
    pollfd p{fd, POLLIN, 0};
    (void)::poll(&p, 1, static_cast<int>(left.count()));
    read_queued();
  }
  return seen;
}

nlohmann::json RawBpfTest::talk(uint32_t uid, const std::string& proto, const std::string& addr, int port,
                                const std::string& data) {
  ProcessResult r =
      run_as(uid, uid, &*ns_, cgroup_->path(), {RAWBPF_PROBE, "talk", proto, addr, std::to_string(port), data});
  EXPECT_TRUE(r.ok()) << r.describe();
  nlohmann::json j = json_of(r.out);
  EXPECT_EQ(j.value("reply", ""), data) << r.describe();
  return j;
}

nlohmann::json RawBpfTest::ping(uint32_t uid, const std::string& addr) {
  ProcessResult r = run_as(uid, uid, &*ns_, cgroup_->path(), {RAWBPF_PROBE, "ping", addr});
  EXPECT_TRUE(r.ok()) << r.describe();
  nlohmann::json j = json_of(r.out);
  EXPECT_TRUE(j.value("reply", false)) << r.describe();
  return j;
}

nlohmann::json RawBpfTest::udp_send(uint32_t uid, const std::string& addr, int port) {
  ProcessResult r = run_as(uid, uid, &*ns_, cgroup_->path(), {RAWBPF_PROBE, "udp-send", addr, std::to_string(port)});
  EXPECT_TRUE(r.ok()) << r.describe();
  return json_of(r.out);
}

void RawBpfTest::far_ping(const std::string& addr) {
  ProcessResult r = run_in(&*far_, {"ping", "-c", "1", "-W", "2", addr});
  EXPECT_TRUE(r.ok()) << r.describe();
}

std::optional<ChildProcess> RawBpfTest::listen(uint32_t uid, const std::string& addr, int port) {
  auto child = spawn_as(uid, uid, &*ns_, cgroup_->path(), {RAWBPF_PROBE, "listen", addr, std::to_string(port)});
  if (!child.ok()) {
    ADD_FAILURE() << child.error().message;
    return std::nullopt;
  }
  if (!child->read_line()) {
    ADD_FAILURE() << "listener did not start: " << child->wait().describe();
    return std::nullopt;
  }
  return std::move(child).value();
}

nlohmann::json RawBpfTest::far_connect(const std::string& addr, int port) {
  // No echo from a plain listener: the reply stays empty, the connection is what counts.
  ProcessResult r = run_in(&*far_, {RAWBPF_PROBE, "talk", "tcp", addr, std::to_string(port), "hi"});
  EXPECT_TRUE(r.ok()) << r.describe();
  return json_of(r.out);
}

nlohmann::json RawBpfTest::forge(const std::string& proto, const std::string& src, int sport, const std::string& dst,
                                 int dport, uint32_t mark) {
  auto child = ChildProcess::spawn(SpawnSpec{.uid = std::nullopt,
                                             .gid = 0,
                                             .netns = &*ns_,
                                             .cgroup_path = cgroup_->path(),
                                             .argv = {RAWBPF_PROBE, "forge", proto, src, std::to_string(sport), dst,
                                                      std::to_string(dport), std::to_string(mark)}});
  EXPECT_OK(child);
  if (!child.ok()) return {};
  ProcessResult r = child->wait();
  EXPECT_TRUE(r.ok()) << r.describe();
  return json_of(r.out);
}

size_t RawBpfTest::programs_named(const std::string& name) {
  ProcessResult r = run_in(nullptr, {"bpftool", "-j", "cgroup", "show", cgroup_->path()});
  EXPECT_TRUE(r.ok()) << r.describe();
  if (r.out.find_first_not_of(" \n") == std::string::npos) return 0;
  size_t n = 0;
  for (const auto& p : json_of(r.out))
    if (p.value("name", "") == name) ++n;
  return n;
}

}  // namespace netd::testing
