// The send fence (NftWanted::raw_flag): `table inet netd` ties flagged IP packets to the
// addresses their slice may use and unflags them; `table netdev netd` hooks the egress of
// every device and lets flagged frames (packet sockets) out only on the slice's vifs, or on
// its send devices when they carry an allowed source. Real traffic from raw IP sockets
// (IP_HDRINCL) and AF_PACKET sockets (also with PACKET_QDISC_BYPASS), counted on the peer.
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <unistd.h>

#include <cctype>

#include "tests/fixtures/eventually.h"
#include "tests/integration/tagging/nft_raw_env.h"

namespace netd::testing {
namespace {

using kernel::NetdNftTable;
using kernel::NftWanted;

// Slice 7 owns tap7-0 (10.7.7.1), slice 8 owns tun8-0 (10.8.8.1, fd08::1); the host has
// 10.77.0.1 (on va, towards the peer) and lo's addresses. Slice 7 may send frames on va.
NftWanted fenced() {
  NftWanted w;
  w.slices = {{7, kSliceMark}, {8, kMark8}};
  w.vifs = {{"tap7-0", 7, false, {ip("10.7.7.1")}}, {"tun8-0", 8, false, {ip("10.8.8.1"), ip("fd08::1")}}};
  w.uplinks = {"va"};
  w.raw_flag = kRawFlag;
  w.host_addresses = {ip("10.77.0.1"), ip("127.0.0.1"), ip("::1"), ip("fd77::1")};
  w.packet_send_devices = {{7, {"va"}}};
  w.devices = {"lo", "va", "vc", "tap7-0", "tun8-0"};
  return w;
}

// Netdev counters on the peer's side of a veth: UDP to 9999 by source, and ARP for 10.X.0.77.
std::string peer_counters(const std::string& dev, int net) {
  std::string n = std::to_string(net);
  return "table netdev t { chain c { type filter hook ingress device \"" + dev + "\" priority 0;\n"
         "  ip saddr 10." + n + ".0.1 udp dport 9999 counter\n"
         "  ip saddr 10.7.7.1 udp dport 9999 counter\n"
         "  ip saddr 10.8.8.1 udp dport 9999 counter\n"
         "  ip saddr 10.99.0.9 udp dport 9999 counter\n"
         "  arp daddr ip 10." + n + ".0.77 counter\n"
         "  ether type 0x88b6 counter; }\n}\n";
}
enum PeerCounter { kFromHost, kFromOwnVif, kFromOtherVif, kForged, kArp, kSentinel };
constexpr uint16_t kSentinelType = 0x88b6;  // unflagged frames the fence lets by

// Gives `ns` (the test netns) the vif addresses, on a veth standing in for each vif.
void add_vif_standins(const Netns& ns) {
  auto other = Netns::create();
  ASSERT_OK(other);
  ASSERT_OK(add_veth_pair({&ns, "tap7-0", "10.7.7.1/24"}, {&*other, "x7", ""}));
  ASSERT_OK(add_veth_pair({&ns, "tun8-0", "10.8.8.1/24"}, {&*other, "x8", ""}));
}

class NftRawFenceTest : public NftRawTest {
 protected:
  // Sends a raw IPv4/UDP packet with IP_HDRINCL from `src` to 10.77.0.2 with SO_MARK `mark`.
  void send_raw(uint32_t mark, const char* src) {
    in_netns([&] {
      int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
      ASSERT_GE(fd, 0);
      ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark), 0);
      sockaddr_in to{};
      to.sin_family = AF_INET;
      inet_pton(AF_INET, "10.77.0.2", &to.sin_addr);
      auto p = udp4_packet(ip(src), ip("10.77.0.2"));
      ssize_t n = sendto(fd, p.data(), p.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
      // A drop in the output hook reports EPERM; what matters is what arrives.
      EXPECT_TRUE(n == static_cast<ssize_t>(p.size()) || errno == EPERM) << strerror(errno);
      close(fd);
    });
  }

  // Sends an Ethernet frame on `dev` from an AF_PACKET socket with SO_MARK `mark`.
  void send_frame(uint32_t mark, const std::string& dev, uint16_t ethertype, const std::vector<uint8_t>& payload,
                  bool bypass = false, uint16_t protocol = 0) {
    in_netns([&] {
      int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
      ASSERT_GE(fd, 0);
      ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark), 0);
      int one = 1;
      if (bypass) {
        ASSERT_EQ(setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one), 0);
      }
      sockaddr_ll to{};
      to.sll_family = AF_PACKET;
      to.sll_ifindex = static_cast<int>(if_nametoindex(dev.c_str()));
      to.sll_protocol = htons(protocol);
      ASSERT_NE(to.sll_ifindex, 0);
      auto f = ether_frame(fd, dev, ethertype, payload);
      ssize_t n = sendto(fd, f.data(), f.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
      // A drop at egress is reported as success (or ENOBUFS with the qdisc bypass).
      EXPECT_TRUE(n == static_cast<ssize_t>(f.size()) || errno == ENOBUFS) << strerror(errno);
      close(fd);
    });
  }

  std::vector<uint8_t> udp_from(const char* src) { return udp4_packet(ip(src), ip("10.77.0.2")); }

  // Sends an unflagged frame of kSentinelType out of `dev` after the frames under test and
  // waits until the peer's counter `chain` (its last rule) has seen `n` of them: whatever went
  // out of `dev` before it has been counted (or dropped) by then.
  // `mark`: a vif's owner's (an unmarked frame may not leave a vif).
  void await_sentinel(const std::string& dev, const Netns& peer_ns, uint64_t n, const std::string& chain = "c",
                      uint32_t mark = 0) {
    send_frame(mark, dev, kSentinelType, {0x5e, 0x47});
    EXPECT_TRUE(eventually([&] {
      auto c = counts(peer_ns, "netdev", "t", chain);
      return !c.empty() && c.back() >= n;
    })) << "the sentinel frame never arrived on the peer of " << dev;
  }
};

// Devices per egress chain as `nft list` prints them (nft 1.0.6's JSON leaves out the
// devices of a chain that has several).
std::map<std::string, std::set<std::string>> egress_devices(const std::string& text) {
  std::map<std::string, std::set<std::string>> out;
  for (size_t at = text.find("chain raw_egress_"); at != std::string::npos; at = text.find("chain raw_egress_", at + 1)) {
    size_t name_end = text.find(' ', at + 6);
    auto& devs = out[text.substr(at + 6, name_end - at - 6)];
    size_t hook = text.find("hook egress ", at);
    size_t open = text.find("devices = {", hook);
    size_t single = text.find("device \"", hook);
    if (single != std::string::npos && (open == std::string::npos || single < open)) {
      size_t b = single + 8;
      devs.insert(text.substr(b, text.find('"', b) - b));
      continue;
    }
    size_t close = text.find('}', open);
    std::string list = text.substr(open + 11, close - open - 11);
    std::string name;
    for (char c : list + ",") {
      if (c == ',') {
        if (!name.empty()) devs.insert(name);
        name.clear();
      } else if (!std::isspace(static_cast<unsigned char>(c)) && c != '"') {
        name += c;
      }
    }
  }
  return out;
}

TEST_F(NftRawFenceTest, ListsBothTablesAsNftWouldWriteThem) {
  NftWanted w = fenced();
  w.flowlog_groups = {{7, 0x4e07}};
  EXPECT_GT(sync(w), 0u);
  EXPECT_EQ(sync(w), 0u) << "an unchanged wanted state must send nothing";
  std::string inet = list_text("inet");
  std::string netdev = list_text("netdev");
  std::cout << inet << netdev;
  for (const char* expected :
       {"type ipv4_addr", "10.77.0.1", "type mark . ipv4_addr", "0x00080000 . 10.8.8.1",
        "type mark . ipv6_addr", "0x00080000 . fd08::1", "type filter hook output priority filter + 10",
        "meta mark & 0x10000000 == 0x10000000 jump raw_source",
        "ip saddr @host_addrs4 goto raw_unflag",
        "meta mark & 0x0fff0000 . ip saddr @vif_addrs4 goto raw_unflag",
        "ip6 saddr @host_addrs6 goto raw_unflag",
        "meta mark & 0x0fff0000 . ip6 saddr @vif_addrs6 goto raw_unflag", "meta mark set meta mark & 0xefffffff",
        "iifname @uplinks log group 19975 snaplen 128 queue-threshold 64",
        "oifname @uplinks log group 19975 snaplen 128 queue-threshold 64"}) {
    EXPECT_NE(inet.find(expected), std::string::npos) << "missing '" << expected << "' in\n" << inet;
  }
  EXPECT_EQ(inet.find("10.7.7.1 ,"), std::string::npos) << "a vif's address is no host address";
  for (const char* expected :
       {"chain raw_egress_0 {\n\t\ttype filter hook egress devices = { lo, va, vc } priority filter",
        "meta mark & 0x10000000 == 0x10000000 jump raw_fence", "type mark . ifname", "0x00070000 . \"tap7-0\"",
        "0x00070000 . \"va\"", "meta mark & 0x0fff0000 . oifname @send_devices goto raw_frame\n\t\tdrop",
        // The vif guard, on the vifs' own egress (the vifs' fence too: no raw_egress there).
        "chain vif_egress_0 {\n\t\ttype filter hook egress devices = { tap7-0, tun8-0 } priority filter",
        "meta mark & 0x0fff0000 . oifname @own_vifs accept\n\t\tmeta mark & 0x10000000 == 0x10000000 drop\n"
        "\t\tjump vif_kernel\n\t\tdrop",
        "meta protocol arp accept", "icmpv6 type 130-137 accept", "icmpv6 type mld2-listener-report accept",
        "meta l4proto igmp accept"}) {
    EXPECT_NE(netdev.find(expected), std::string::npos) << "missing '" << expected << "' in\n" << netdev;
  }
  // host_addrs4 holds no vif address even if the caller listed it as a host's.
  w.host_addresses.push_back(ip("10.8.8.1"));
  sync(w);
  EXPECT_EQ(list_text("inet").find("10.8.8.1,"), std::string::npos);

  // No flag: no fence chains; the netdev table keeps the vif guard, until the last vif goes.
  w.raw_flag = 0;
  EXPECT_GT(sync(w), 0u);
  EXPECT_EQ(list_text("inet").find("raw_source"), std::string::npos);
  netdev = list_text("netdev");
  EXPECT_EQ(netdev.find("raw_"), std::string::npos) << netdev;
  EXPECT_NE(netdev.find("chain vif_egress_0"), std::string::npos) << netdev;
  w.vifs.clear();
  EXPECT_GT(sync(w), 0u);
  EXPECT_FALSE(nft(*ns_, {"list", "table", "netdev", "netd"}).ok());
  in_netns([&] { ASSERT_OK(NetdNftTable::teardown()); });
  EXPECT_EQ(nft(*ns_, {"list", "tables"}).out, "");
}

// A fence an earlier netd left may fence sockets still out: open() says it found one, and
// after a sync the table says whether that sync kept it.
TEST_F(NftRawFenceTest, OpenSaysWhetherAFenceIsInPlace) {
  in_netns([&] {
    auto fresh = NetdNftTable::open(kMask);
    ASSERT_OK(fresh);
    EXPECT_FALSE(fresh->has_raw_fence());
    ASSERT_OK(fresh->sync(fenced()));
    EXPECT_TRUE(fresh->has_raw_fence());
    auto reopened = NetdNftTable::open(kMask);
    ASSERT_OK(reopened);
    EXPECT_TRUE(reopened->has_raw_fence()) << "left by the table before";
    NftWanted unfenced = fenced();
    unfenced.raw_flag = 0;
    ASSERT_OK(reopened->sync(unfenced));
    EXPECT_FALSE(reopened->has_raw_fence());
    auto again = NetdNftTable::open(kMask);
    ASSERT_OK(again);
    EXPECT_FALSE(again->has_raw_fence());
  });
}

TEST_F(NftRawFenceTest, TeardownDeletesBothTables) {
  sync(fenced());
  in_netns([&] {
    ASSERT_OK(NetdNftTable::teardown());
    ASSERT_OK(NetdNftTable::teardown());
  });
  EXPECT_EQ(nft(*ns_, {"list", "tables"}).out, "");
}

TEST_F(NftRawFenceTest, RefusesAFlagInsideTheMaskAndRepeatedDevices) {
  in_netns([&] {
    auto table = NetdNftTable::open(kMask);
    ASSERT_OK(table);
    NftWanted w = fenced();
    w.raw_flag = 0x00010000;
    EXPECT_ERR(table->sync(w), EINVAL, "overlaps");
    w = fenced();
    w.devices.push_back("lo");
    EXPECT_ERR(table->sync(w), EINVAL, "listed twice");
    w = fenced();
    w.packet_send_devices[9] = {"va"};
    EXPECT_ERR(table->sync(w), EINVAL, "no mark");
  });
}

TEST_F(NftRawFenceTest, FlaggedIpPacketsLeaveOnlyFromAllowedSourcesAndUnflagged) {
  auto other = peer("va", "vb", 77);
  ASSERT_TRUE(other);
  add_vif_standins(*ns_);
  sync(fenced());
  load(*other, peer_counters("vb", 77));
  // What leaves va still flagged, or with the slice mark (after the fence).
  load(*ns_, "table netdev t { chain e { type filter hook egress device \"va\" priority 10;\n"
             "  udp dport 9999 meta mark & 0x10000000 != 0 counter\n"
             "  udp dport 9999 meta mark & 0x0fff0000 == 0x00070000 counter; }\n}\n");

  const uint32_t flagged7 = kSliceMark | kRawFlag;
  send_raw(flagged7, "10.77.0.1");   // a host address
  send_raw(flagged7, "10.7.7.1");    // its own vif's
  send_raw(flagged7, "10.8.8.1");    // slice 8's vif's
  send_raw(flagged7, "10.99.0.9");   // nobody's
  send_raw(kSliceMark, "10.99.0.9"); // an unflagged socket (not one netd handed out): not fenced
  await_sentinel("va", *other, 1);

  std::vector<uint64_t> c = counts(*other, "netdev", "t", "c");
  ASSERT_EQ(c.size(), 6u);
  EXPECT_EQ(c[kFromHost], 1u);
  EXPECT_EQ(c[kFromOwnVif], 1u);
  EXPECT_EQ(c[kFromOtherVif], 0u) << "another slice's address";
  EXPECT_EQ(c[kForged], 1u) << "only the unflagged one";
  std::vector<uint64_t> e = counts(*ns_, "netdev", "t", "e");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0], 0u) << "flag cleared in raw_output";
  EXPECT_EQ(e[1], 3u) << "slice bits kept";
}

TEST_F(NftRawFenceTest, FlaggedFramesLeaveOnlyWhereAndAsTheSliceMaySend) {
  auto other = peer("va", "vb", 77);
  ASSERT_TRUE(other);
  auto third = peer("vc", "vd", 78);  // not a send device of slice 7
  ASSERT_TRUE(third);
  sync(fenced());
  load(*other, peer_counters("vb", 77));
  load(*third, peer_counters("vd", 78));

  const uint32_t flagged7 = kSliceMark | kRawFlag;
  for (bool bypass : {false, true}) {
    SCOPED_TRACE(bypass ? "PACKET_QDISC_BYPASS" : "through the qdisc");
    load(*other, "flush table netdev t\n" + peer_counters("vb", 77));
    load(*third, "flush table netdev t\n" + peer_counters("vd", 78));
    send_frame(flagged7, "va", ETH_P_IP, udp_from("10.77.0.1"), bypass);
    send_frame(flagged7, "va", ETH_P_IP, udp_from("10.7.7.1"), bypass, ETH_P_IP);  // a protocol given
    send_frame(flagged7, "va", ETH_P_IP, udp_from("10.7.7.1"), bypass);
    send_frame(flagged7, "va", ETH_P_IP, udp_from("10.8.8.1"), bypass);
    send_frame(flagged7, "va", ETH_P_IP, udp_from("10.99.0.9"), bypass);
    send_frame(flagged7, "va", ETH_P_ARP, arp_request(ip("10.77.0.1"), ip("10.77.0.77")), bypass);
    send_frame(flagged7, "va", ETH_P_ARP, arp_request(ip("10.99.0.9"), ip("10.77.0.77")), bypass);
    send_frame(flagged7, "va", 0x88b5, {1, 2, 3, 4}, bypass);  // another ethertype: dropped
    send_frame(kSliceMark, "va", ETH_P_IP, udp_from("10.99.0.9"), bypass);  // unflagged: untouched
    send_frame(flagged7, "vc", ETH_P_IP, udp4_packet(ip("10.78.0.1"), ip("10.78.0.2")), bypass);
    await_sentinel("va", *other, 1);
    await_sentinel("vc", *third, 1);

    std::vector<uint64_t> c = counts(*other, "netdev", "t", "c");
    ASSERT_EQ(c.size(), 6u);
    EXPECT_EQ(c[kFromHost], 1u) << "host source on a send device";
    // With the qdisc bypass and a protocol other than ETH_P_ALL, af_packet does not set the
    // mac header before the egress hook: the link-layer header cannot be read, and the
    // frame is dropped (fails closed).
    EXPECT_EQ(c[kFromOwnVif], bypass ? 1u : 2u) << "own vif address on a send device";
    EXPECT_EQ(c[kFromOtherVif], 0u) << "slice 8's address";
    EXPECT_EQ(c[kForged], 1u) << "only the unflagged frame";
    EXPECT_EQ(c[kArp], 1u) << "ARP only with a host sender";
    std::vector<uint64_t> d = counts(*third, "netdev", "t", "c");
    ASSERT_EQ(d.size(), 6u);
    EXPECT_EQ(d[kFromHost], 0u) << "vc is no send device of slice 7";
  }
}

TEST_F(NftRawFenceTest, OwnVifsTakeAnyFrameOtherVifsNone) {
  auto other = Netns::create();
  ASSERT_OK(other);
  ASSERT_OK(add_veth_pair({&*ns_, "tap7-0", "10.7.7.1/24"}, {&*other, "x7", "10.7.7.2/24"}));
  ASSERT_OK(add_veth_pair({&*ns_, "tun8-0", "10.8.8.1/24"}, {&*other, "x8", "10.8.8.2/24"}));
  NftWanted w = fenced();
  w.packet_send_devices[7].push_back("tun8-0");  // a vif is never a send device
  sync(w);
  load(*other, "table netdev t {\n"
               " chain a { type filter hook ingress device \"x7\" priority 0; ether type 0x88b5 counter; }\n"
               " chain b { type filter hook ingress device \"x8\" priority 0; ether type 0x88b5 counter;\n"
               "   ether type 0x88b6 counter; }\n}\n");
  send_frame(kSliceMark | kRawFlag, "tap7-0", 0x88b5, {1, 2, 3, 4});
  send_frame(kSliceMark | kRawFlag, "tun8-0", 0x88b5, {1, 2, 3, 4});
  await_sentinel("tun8-0", *other, 1, "b", kMark8);
  EXPECT_TRUE(eventually([&] { return counts(*other, "netdev", "t", "a") == std::vector<uint64_t>{1}; }))
      << "tap7-0's frame never arrived";
  EXPECT_EQ(counts(*other, "netdev", "t", "b"), (std::vector<uint64_t>{0, 1}));
}

TEST_F(NftRawFenceTest, ADeviceAddedByTheNextSyncIsFencedAndOneRemovedIsNot) {
  NftWanted w = fenced();
  sync(w);
  auto other = peer("ve", "vx", 79);  // made after the sync
  ASSERT_TRUE(other);
  load(*other, peer_counters("vx", 79));
  auto forged = [&] { send_frame(kSliceMark | kRawFlag, "ve", ETH_P_IP, udp4_packet(ip("10.99.0.9"), ip("10.79.0.2"))); };
  forged();
  await_sentinel("ve", *other, 1);
  EXPECT_EQ(counts(*other, "netdev", "t", "c")[kForged], 1u) << "not hooked yet";

  w.devices.push_back("ve");
  EXPECT_EQ(sync(w), 1u) << "one NEWCHAIN adding the device to the existing chain";
  EXPECT_EQ(egress_devices(list_text("netdev"))["raw_egress_0"].count("ve"), 1u);
  forged();
  await_sentinel("ve", *other, 2);
  EXPECT_EQ(counts(*other, "netdev", "t", "c")[kForged], 1u) << "fenced now";

  w.devices.pop_back();
  EXPECT_EQ(sync(w), 1u) << "one DELCHAIN carrying the device";
  EXPECT_EQ(sync(w), 0u);
  auto chains = egress_devices(list_text("netdev"));
  EXPECT_EQ(chains["raw_egress_0"].count("ve"), 0u);
  EXPECT_EQ(chains["raw_egress_0"].count("va"), 1u);
  forged();
  await_sentinel("ve", *other, 3);
  EXPECT_EQ(counts(*other, "netdev", "t", "c")[kForged], 2u) << "unhooked again";
}

TEST_F(NftRawFenceTest, ManyDevicesAreSplitIntoChainsOf200AndKeepTheirChain) {
  NftWanted w = fenced();
  w.devices.clear();
  w.vifs.clear();  // their egress is their guard's (vif_egress_K), not counted here
  for (int i = 0; i < 450; ++i) w.devices.push_back("d" + std::to_string(i));  // need not exist
  EXPECT_GT(sync(w), 0u);
  EXPECT_EQ(sync(w), 0u);
  auto chains = egress_devices(list_text("netdev"));
  ASSERT_EQ(chains.size(), 3u);
  ASSERT_EQ(chains["raw_egress_0"].size(), 200u);
  size_t total = 0;
  for (const auto& [name, devs] : chains) {
    EXPECT_LE(devs.size(), 200u) << name;
    total += devs.size();
  }
  EXPECT_EQ(total, 450u);

  // 100 go, 30 come: the others stay where they were, the new ones fill the holes.
  auto before = chains;
  std::set<std::string> gone;
  for (int i = 0; i < 100; ++i) gone.insert(*std::next(before["raw_egress_0"].begin(), i));
  std::erase_if(w.devices, [&](const std::string& d) { return gone.count(d) != 0; });
  for (int i = 0; i < 30; ++i) w.devices.push_back("n" + std::to_string(i));
  EXPECT_GT(sync(w), 0u);
  EXPECT_EQ(sync(w), 0u);
  chains = egress_devices(list_text("netdev"));
  ASSERT_EQ(chains.size(), 3u);
  EXPECT_EQ(chains["raw_egress_0"].size(), 130u);
  EXPECT_EQ(chains["raw_egress_1"], before["raw_egress_1"]);
  EXPECT_EQ(chains["raw_egress_2"], before["raw_egress_2"]);
  EXPECT_EQ(chains["raw_egress_0"].count("n29"), 1u);
}

}  // namespace
}  // namespace netd::testing
