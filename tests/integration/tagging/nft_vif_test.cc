// NetdNftTable vif isolation: vifs are elements of maps and sets keyed by interface name
// (nothing per device in the rules; the guard is set elements and one shared chain, no chain
// per vif owner); a resync changes exactly the difference. With real
// traffic through a veth standing in for the vif: only the owner's packets leave through it
// (kernel ND still works), what arrives on it carries the owner's mark, and forwarding
// touches it only between a snat vif and the uplinks, masqueraded.
#include "netd/kernel/bpf/slice_tagger.h"
#include "netd/kernel/nft/netd_nft_table.h"
#include "tests/fixtures/veth.h"
#include "tests/integration/tagging/nft_test_env.h"

namespace netd::testing {
namespace {

using kernel::NetdNftTable;
using kernel::NftVif;
using kernel::NftWanted;

constexpr uint32_t kMark7 = kSliceMark;  // slice 7
constexpr uint32_t kMark8 = 8u << 16;    // slice 8
constexpr const char* kVif = "tap7-0";   // a veth in the test netns, named like netd's vifs

NftWanted two_slices_three_vifs() {
  return {{{7, kMark7}, {8, kMark8}},
          {{"tap7-0", 7, true}, {"tap7-1", 7, false}, {"tun8-0", 8, false}},
          {"up0"}};
}

std::vector<std::string> ping(const std::string& address, std::optional<uint32_t> so_mark = std::nullopt) {
  std::vector<std::string> argv = {"ping", "-n", "-c", "1", "-W", "1"};
  if (address.find(':') != std::string::npos) argv.emplace_back("-6");
  if (so_mark) {
    argv.emplace_back("-m");
    argv.push_back(std::to_string(*so_mark));
  }
  argv.push_back(address);
  return argv;
}

class NftVifTest : public NftTableTest {
 protected:
  void SetUp() override {
    NftTableTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // Immediately usable link-local addresses: the router's ND for forwarded packets needs one.
    ASSERT_OK(ns_->set_sysctl("net.ipv6.conf.default.accept_dad", "0"));
  }

  // Opens the table in the test netns and syncs `wanted`; returns the messages the sync sent.
  size_t sync(const NftWanted& wanted) {
    size_t sent = 0;
    in_netns([&] {
      auto table = NetdNftTable::open(kMask);
      ASSERT_OK(table);
      ASSERT_OK(table->sync(wanted));
      sent = table->last_sync_messages();
    });
    return sent;
  }

  // A namespace beside the test netns, linked to it by a veth pair: `here` (in the test
  // netns) has .1, `there` .2 of 10.<net>.0.0/24 and fd<net>::/64.
  std::optional<Netns> linked_netns(const std::string& here, const std::string& there, int net) {
    auto other = Netns::create();
    EXPECT_OK(other);
    if (!other.ok()) return std::nullopt;
    EXPECT_OK(other->set_sysctl("net.ipv6.conf.default.accept_dad", "0"));
    std::string v4 = "10." + std::to_string(net) + ".0.";
    std::string v6 = "fd" + std::to_string(net) + "::";
    EXPECT_OK(add_veth_pair({&*ns_, here, v4 + "1/24"}, {&*other, there, v4 + "2/24"}));
    EXPECT_TRUE(run_in(&*ns_, {"ip", "addr", "add", v6 + "1/64", "dev", here, "nodad"}).ok());
    EXPECT_TRUE(run_in(&*other, {"ip", "addr", "add", v6 + "2/64", "dev", there, "nodad"}).ok());
    return std::move(other).value();
  }
};

TEST_F(NftVifTest, VifsAreKeyedByNameInMapsAndSets) {
  EXPECT_GT(sync(two_slices_three_vifs()), 0u);
  EXPECT_EQ(sync(two_slices_three_vifs()), 0u) << "an unchanged wanted state must send nothing";

  ListedTable t = list_netd();
  EXPECT_EQ(t.chains, vifs_and({"slice_7", "slice_7_in", "slice_7_vif_in", "slice_8", "slice_8_in", "slice_8_vif_in"}));
  using Jumps = std::map<std::string, std::string>;
  EXPECT_EQ(t.ifname_maps["vif_marks"],
            (Jumps{{"tap7-0", "slice_7_vif_in"}, {"tap7-1", "slice_7_vif_in"}, {"tun8-0", "slice_8_vif_in"}}));
  EXPECT_EQ(list_netdev().sets["own_vifs"],
            (std::set<std::string>{"0x00070000 . tap7-0", "0x00070000 . tap7-1", "0x00080000 . tun8-0"}));
  EXPECT_EQ(t.sets["vifs"], (std::set<std::string>{"tap7-0", "tap7-1", "tun8-0"}));
  EXPECT_EQ(t.sets["snat_vifs"], (std::set<std::string>{"tap7-0"}));
  EXPECT_EQ(t.sets["uplinks"], (std::set<std::string>{"up0"}));
  EXPECT_EQ(t.maps["slice_marks"], (std::map<uint64_t, std::string>{{kMark7, "slice_7"}, {kMark8, "slice_8"}}));

  // nft(8) reads back the names as names and the rules as the ones it would write itself.
  std::string text = list_netd_text();
  for (const char* expected :
       {"type ifname : verdict", "\"tun8-0\" : jump slice_8_vif_in", "type ifname\n", "ct mark & 0x0fff0000 vmap @slice_ct_marks\n\t\tiifname vmap @vif_marks",
        "type filter hook forward priority filter", "iifname @snat_vifs oifname @uplinks accept",
        "iifname @vifs drop",
        "oifname @snat_vifs iifname @uplinks ct state established,related accept",
        "oifname @vifs drop", "type nat hook postrouting priority srcnat",
        "iifname @snat_vifs oifname @uplinks masquerade",
        "meta mark set meta mark & 0xf007ffff | 0x00070000\n\t\tct mark set ct mark & 0xf007ffff | 0x00070000"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << "missing '" << expected << "' in\n" << text;
  }
  // What leaves a vif is judged on the vif's own egress, not in `output` for every packet nor
  // in `forward`.
  EXPECT_EQ(text.find("hook output priority filter"), std::string::npos) << text;
  EXPECT_EQ(text.find("vif_owners"), std::string::npos) << text;
  EXPECT_EQ(text.find("vif_kernel"), std::string::npos) << text;
  std::string netdev = nft(*ns_, {"list", "table", "netdev", "netd"}).out;
  for (const char* expected : {"type filter hook egress devices = { tap7-0, tap7-1, tun8-0 } priority filter;",
                               "meta mark & 0x0fff0000 . oifname @own_vifs accept", "jump vif_kernel", "drop",
                               "type mark . ifname", "0x00080000 . \"tun8-0\"", "meta protocol arp accept",
                               "icmpv6 type 130-137 accept", "icmpv6 type mld2-listener-report accept",
                               "meta l4proto igmp accept"}) {
    EXPECT_NE(netdev.find(expected), std::string::npos) << "missing '" << expected << "' in\n" << netdev;
  }
}

TEST_F(NftVifTest, RemovingAVifOrASliceRemovesItsElementsAndChains) {
  NftWanted wanted = two_slices_three_vifs();
  sync(wanted);

  wanted.vifs.pop_back();  // tun8-0: slice 8 has no vif left
  EXPECT_GT(sync(wanted), 0u);
  EXPECT_EQ(sync(wanted), 0u);
  ListedTable t = list_netd();
  EXPECT_EQ(t.chains, vifs_and({"slice_7", "slice_7_in", "slice_7_vif_in", "slice_8", "slice_8_in"}));
  EXPECT_EQ(t.sets["vifs"], (std::set<std::string>{"tap7-0", "tap7-1"}));
  EXPECT_EQ(t.ifname_maps["vif_marks"].count("tun8-0"), 0u);
  EXPECT_EQ(list_netdev().sets["own_vifs"], (std::set<std::string>{"0x00070000 . tap7-0", "0x00070000 . tap7-1"}));

  wanted.vifs[0].snat = false;  // tap7-0 loses snat, keeps its guard
  wanted.uplinks = {"up1", "up2"};
  EXPECT_GT(sync(wanted), 0u);
  EXPECT_EQ(sync(wanted), 0u);
  t = list_netd();
  EXPECT_EQ(t.sets["snat_vifs"], std::set<std::string>{});
  EXPECT_EQ(t.sets["uplinks"], (std::set<std::string>{"up1", "up2"}));
  EXPECT_EQ(list_netdev().sets["own_vifs"].count("0x00070000 . tap7-0"), 1u);

  wanted.slices.erase(7);  // slice 7 goes, and with it its vifs
  wanted.vifs.clear();
  EXPECT_GT(sync(wanted), 0u);
  EXPECT_EQ(sync(wanted), 0u);
  t = list_netd();
  EXPECT_EQ(t.chains, base_and({"slice_8", "slice_8_in"}));
  EXPECT_TRUE(t.ifname_maps["vif_marks"].empty());
  EXPECT_TRUE(list_netdev().sets["own_vifs"].empty());
  EXPECT_TRUE(t.sets["vifs"].empty());
  EXPECT_FALSE(nft(*ns_, {"list", "table", "netdev", "netd"}).ok()) << "no vif and no raw flag: no vif guard";
}

TEST_F(NftVifTest, AVifChangingOwnerOrOwnerMarkTakesTheNewOwnersMark) {
  sync({{{7, kMark7}, {8, kMark8}}, {{"tap7-0", 7}}, {}});
  EXPECT_GT(sync({{{7, kMark7}, {8, kMark8}}, {{"tap7-0", 8}}, {}}), 0u);
  ListedTable t = list_netd();
  EXPECT_EQ(t.ifname_maps["vif_marks"], (std::map<std::string, std::string>{{"tap7-0", "slice_8_vif_in"}}));
  EXPECT_EQ(list_netdev().sets["own_vifs"], (std::set<std::string>{"0x00080000 . tap7-0"}));
  EXPECT_EQ(t.chains, vifs_and({"slice_7", "slice_7_in", "slice_8", "slice_8_in", "slice_8_vif_in"}));
  // The owner's mark changes (a reload gave slice 8 another one): its vifs' guard follows.
  constexpr uint32_t kMark9 = 9u << 16;
  EXPECT_GT(sync({{{7, kMark7}, {8, kMark9}}, {{"tap7-0", 8}}, {}}), 0u);
  t = list_netd();
  EXPECT_EQ(list_netdev().sets["own_vifs"], (std::set<std::string>{"0x00090000 . tap7-0"}));
}

TEST_F(NftVifTest, ManyVifsGoInOneTransactionOfChunkedMessages) {
  NftWanted wanted;
  for (uint32_t id = 1; id <= 600; ++id) {
    wanted.slices[id] = id << 16;
    for (int n = 0; n < 2; ++n)  // > 2 * 512 elements per map and set
      wanted.vifs.push_back({"tap" + std::to_string(id) + "-" + std::to_string(n), id, n == 0});
  }
  EXPECT_GT(sync(wanted), 0u);
  EXPECT_EQ(sync(wanted), 0u);
  ListedTable t = list_netd();
  EXPECT_EQ(t.chains.size(), kBaseChains.size() + kVifChains.size() + 3 * wanted.slices.size());
  EXPECT_EQ(list_netdev().sets["own_vifs"].size(), wanted.vifs.size());
  EXPECT_EQ(t.sets["vifs"].size(), wanted.vifs.size());
  EXPECT_EQ(t.sets["snat_vifs"].size(), wanted.slices.size());
  EXPECT_EQ(t.ifname_maps["vif_marks"]["tap600-1"], "slice_600_vif_in");
}

// A table made before vifs existed (as nft(8) would write it) gains the vif parts in place:
// its base chains stay, mark_prerouting gets its second rule.
TEST_F(NftVifTest, ATableFromBeforeVifsIsCompletedInPlace) {
  const std::string old_table = R"(
table inet netd {
  map slice_marks { type mark : verdict; }
  map slice_ct_marks { type mark : verdict; }
  chain mark_output { type route hook output priority mangle; meta mark & 0x0fff0000 vmap @slice_marks; }
  chain mark_prerouting { type filter hook prerouting priority mangle; ct mark & 0x0fff0000 vmap @slice_ct_marks; }
  chain slice_7 { ct mark set ct mark & 0xf007ffff | 0x00070000; }
  chain slice_7_in { meta mark set meta mark & 0xf007ffff | 0x00070000; }
}
add element inet netd slice_marks { 0x00070000 : jump slice_7 }
add element inet netd slice_ct_marks { 0x00070000 : jump slice_7_in }
)";
  ProcessResult loaded = nft(*ns_, {"-f", "-"}, old_table);
  ASSERT_TRUE(loaded.ok()) << loaded.describe();
  nlohmann::json before = list_json(*ns_, "netd");
  EXPECT_GT(sync({{{7, kMark7}}, {{kVif, 7}}, {}}), 0u);
  EXPECT_EQ(sync({{{7, kMark7}}, {{kVif, 7}}, {}}), 0u);
  EXPECT_EQ(list_netd().chains, vifs_and({"slice_7", "slice_7_in", "slice_7_vif_in"}));
  std::string text = list_netd_text();
  EXPECT_NE(text.find("ct mark & 0x0fff0000 vmap @slice_ct_marks\n\t\tiifname vmap @vif_marks"), std::string::npos)
      << text;
  // Same handles: the base chains were not replaced.
  nlohmann::json after = list_json(*ns_, "netd");
  auto handle_of = [](const nlohmann::json& j, const std::string& chain) {
    for (const auto& item : j["nftables"])
      if (item.contains("chain") && item["chain"]["name"] == chain) return item["chain"]["handle"].get<int>();
    return -1;
  };
  for (const char* chain : {"mark_output", "mark_prerouting"}) {
    EXPECT_NE(handle_of(before, chain), -1);
    EXPECT_EQ(handle_of(after, chain), handle_of(before, chain)) << chain;
  }
}

// A table as an older netd laid it out, with a guard chain per vif owner that vif_guards jumped
// to: the map goes before the chains it jumps to, in the one transaction of the first sync.
TEST_F(NftVifTest, ATableWithAnOlderNetdsVifChainsLosesThem) {
  const std::string old_table = R"(
table inet netd {
  map slice_marks { type mark : verdict; }
  map slice_ct_marks { type mark : verdict; }
  map vif_marks { type ifname : verdict; }
  map vif_guards { type ifname : verdict; }
  chain mark_output { type route hook output priority mangle; meta mark & 0x0fff0000 vmap @slice_marks; }
  chain mark_prerouting { type filter hook prerouting priority mangle; ct mark & 0x0fff0000 vmap @slice_ct_marks; iifname vmap @vif_marks; }
  chain vif_output { type filter hook output priority filter; oifname vmap @vif_guards; }
  chain slice_7 { ct mark set ct mark & 0xf007ffff | 0x00070000; }
  chain slice_7_in { meta mark set meta mark & 0xf007ffff | 0x00070000; }
  chain slice_7_vif_in { meta mark set meta mark & 0xf007ffff | 0x00070000; ct mark set ct mark & 0xf007ffff | 0x00070000; }
  chain slice_7_vif_guard { meta mark & 0x0fff0000 == 0x00070000 accept; drop; }
}
add element inet netd slice_marks { 0x00070000 : jump slice_7 }
add element inet netd slice_ct_marks { 0x00070000 : jump slice_7_in }
add element inet netd vif_marks { "tap7-0" : jump slice_7_vif_in }
add element inet netd vif_guards { "tap7-0" : jump slice_7_vif_guard }
)";
  ProcessResult loaded = nft(*ns_, {"-f", "-"}, old_table);
  ASSERT_TRUE(loaded.ok()) << loaded.describe();
  EXPECT_GT(sync({{{7, kMark7}}, {{kVif, 7}}, {}}), 0u);
  EXPECT_EQ(sync({{{7, kMark7}}, {{kVif, 7}}, {}}), 0u);
  ListedTable t = list_netd();
  EXPECT_EQ(t.chains, vifs_and({"slice_7", "slice_7_in", "slice_7_vif_in"}));
  EXPECT_EQ(t.maps.count("vif_guards"), 0u);
  EXPECT_EQ(t.ifname_maps["vif_marks"], (std::map<std::string, std::string>{{kVif, "slice_7_vif_in"}}));
  EXPECT_EQ(list_netdev().sets["own_vifs"], (std::set<std::string>{"0x00070000 . tap7-0"}));
}

TEST_F(NftVifTest, RefusesVifsItCannotGuard) {
  in_netns([&] {
    auto table = NetdNftTable::open(kMask);
    ASSERT_OK(table);
    std::map<uint32_t, uint32_t> slices = {{7, kMark7}};
    EXPECT_ERR(table->sync({slices, {{"tap9-0", 9}}, {}}), EINVAL, "tap9-0: its owner, slice 9, has no mark");
    EXPECT_ERR(table->sync({slices, {{"", 7}}, {}}), EINVAL, "1-15 characters");
    EXPECT_ERR(table->sync({slices, {{"a-name-of-16-chr", 7}}, {}}), EINVAL, "1-15 characters");
    EXPECT_ERR(table->sync({slices, {{"tap7-0", 7}, {"tap7-0", 7}}, {}}), EINVAL, "listed twice");
    EXPECT_ERR(table->sync({slices, {{"tap7-0", 7}}, {"tap7-0"}}), EINVAL, "also a vif");
    EXPECT_ERR(table->sync({slices, {}, {"eth0", "eth0"}}), EINVAL, "uplink eth0 is listed twice");
    EXPECT_ERR(table->sync({{{7, 0}}, {}, {}}), EINVAL, "must not be 0");
  });
  // What open() made (the sets; no base chain: without slices' conntrack or vifs none has
  // work), and no more.
  EXPECT_EQ(list_netd().chains, std::set<std::string>{}) << "a refused sync changes nothing";
  EXPECT_EQ(list_netd().sets.count("vifs"), 1u);
}

// Conntrack costs every packet of the netns (issue 18), so without NftWanted::conntrack the table
// has no `ct` or `nat` expression at all: no save/restore chains or maps, no snat rules, vifs
// marked by the meta mark only. Switching either way is one transaction; snat vifs and flow
// log groups are refused without it.
TEST_F(NftVifTest, WithoutConntrackTheTableHasNoCtOrNatExpression) {
  NftWanted wanted{{{7, kMark7}, {8, kMark8}}, {{"tap7-1", 7, false}}, {"up0"}};
  wanted.conntrack = false;
  sync(wanted);
  ListedTable t = list_netd();
  EXPECT_EQ(t.chains, (std::set<std::string>{"mark_prerouting", "vif_forward", "slice_7_vif_in"}));
  EXPECT_EQ(t.maps.count("slice_marks"), 0u);
  EXPECT_EQ(t.maps.count("slice_ct_marks"), 0u);
  std::string text = list_netd_text();
  EXPECT_EQ(text.find("ct "), std::string::npos) << text;
  EXPECT_EQ(text.find("masquerade"), std::string::npos) << text;
  EXPECT_NE(text.find("iifname vmap @vif_marks"), std::string::npos) << text;
  EXPECT_EQ(sync(wanted), 0u) << "an unchanged wanted state must send nothing";

  wanted.vifs[0].snat = true;
  in_netns([&] {
    auto table = NetdNftTable::open(kMask);
    ASSERT_OK(table);
    EXPECT_ERR(table->sync(wanted), EINVAL, "vif tap7-1 does snat, which needs conntrack");
    NftWanted logged{{{7, kMark7}}, {}, {}};
    logged.conntrack = false;
    logged.flowlog_groups[7] = 7;
    EXPECT_ERR(table->sync(logged), EINVAL, "flow log groups need conntrack");
  });
  EXPECT_EQ(list_netd().chains, t.chains) << "a refused sync changes nothing";

  wanted.conntrack = true;  // the first snat vif: the conntrack layout, whole
  sync(wanted);
  EXPECT_EQ(list_netd().chains, vifs_and({"slice_7", "slice_7_in", "slice_7_vif_in", "slice_8", "slice_8_in"}));
  EXPECT_NE(list_netd_text().find("masquerade"), std::string::npos);
  wanted.vifs[0].snat = false;  // and back
  wanted.conntrack = false;
  sync(wanted);
  EXPECT_EQ(list_netd().chains, t.chains);
  EXPECT_EQ(list_netd_text().find("ct "), std::string::npos);
}

// The member's ping (tagged with the slice mark by the sock_create program) goes out of the
// vif; the stranger's (unmarked) and one carrying another slice's mark (SO_MARK set by root)
// are dropped. The member's first ping6 needs neighbour discovery, which the kernel sends
// unmarked.
TEST_F(NftVifTest, OnlyTheOwnersPacketsLeaveThroughAVif) {
  auto peer = linked_netns(kVif, "v0", 78);
  ASSERT_TRUE(peer);
  auto tagger = kernel::SliceTagger::open({bpffs_->path() + "/netd", cgroup_->path(), kMask});
  ASSERT_OK(tagger);
  ASSERT_OK(tagger->sync({{kMember, kMark7}}, {}));
  sync({{{7, kMark7}, {8, kMark8}}, {{kVif, 7}}, {}});

  for (const char* address : {"10.78.0.2", "fd78::2"}) {
    ProcessResult member = run_as(kMember, kMember, &*ns_, cgroup_->path(), ping(address));
    EXPECT_TRUE(member.ok()) << address << ": " << member.describe();
    ProcessResult stranger = run_as(kStranger, kStranger, &*ns_, cgroup_->path(), ping(address));
    EXPECT_FALSE(stranger.ok()) << address << ": " << stranger.describe();
    ProcessResult other_slice = run_in(&*ns_, ping(address, kMark8));
    EXPECT_FALSE(other_slice.ok()) << address << ": " << other_slice.describe();
    ProcessResult root_unmarked = run_in(&*ns_, ping(address));
    EXPECT_FALSE(root_unmarked.ok()) << address << ": " << root_unmarked.describe();
    ProcessResult owner_mark = run_in(&*ns_, ping(address, kMark7 | 0x1));  // foreign bits do not matter
    EXPECT_TRUE(owner_mark.ok()) << address << ": " << owner_mark.describe();
  }
  ProcessResult neigh = run_in(&*ns_, {"ip", "-6", "neigh", "show", "fd78::2", "dev", kVif});
  EXPECT_NE(neigh.out.find("lladdr"), std::string::npos) << "ND resolved the peer: " << neigh.describe();

  sync({{{7, kMark7}, {8, kMark8}}, {}, {}});  // the vif is no longer netd's: no guard
  EXPECT_TRUE(run_in(&*ns_, ping("10.78.0.2")).ok());
}

// Pings from the vif's side: the requests arrive with the owner's mark in packet and
// conntrack (bits outside the mask kept), so the kernel's replies, which reflect the
// request's mark (fwmark_reflect, as netd sets it), pass the guard on the way back.
TEST_F(NftVifTest, WhatArrivesOnAVifCarriesTheOwnersMark) {
  auto peer = linked_netns(kVif, "v0", 78);
  ASSERT_TRUE(peer);
  ASSERT_OK(ns_->set_sysctl("net.ipv4.fwmark_reflect", "1"));
  ASSERT_OK(ns_->set_sysctl("net.ipv6.fwmark_reflect", "1"));
  sync({{{7, kMark7}, {8, kMark8}}, {{kVif, 7}}, {}});
  const std::string rules = R"(
table inet t {
  chain pre_early { type filter hook prerouting priority -160; meta mark set meta mark | 0x1; }
  chain in_late {
    type filter hook input priority 10;
    iifname "tap7-0" icmp type echo-request counter
    iifname "tap7-0" icmp type echo-request meta mark 0x00070001 ct mark & 0x0fff0000 == 0x00070000 counter
    iifname "tap7-0" icmpv6 type echo-request counter
    iifname "tap7-0" icmpv6 type echo-request meta mark 0x00070001 ct mark & 0x0fff0000 == 0x00070000 counter
  }
}
)";
  ProcessResult loaded = nft(*ns_, {"-f", "-"}, rules);
  ASSERT_TRUE(loaded.ok()) << loaded.describe();

  for (const char* address : {"10.78.0.1", "fd78::1"}) {
    ProcessResult r = run_in(&*peer, ping(address));
    EXPECT_TRUE(r.ok()) << address << ": " << r.describe();
  }
  std::vector<uint64_t> c = counters(list_json(*ns_, "t"), "in_late");
  EXPECT_EQ(c, (std::vector<uint64_t>{1, 1, 1, 1})) << "requests carry the owner's mark";

  // Without the reflection the kernel's replies are unmarked, and the guard drops them.
  ASSERT_OK(ns_->set_sysctl("net.ipv4.fwmark_reflect", "0"));
  ASSERT_OK(ns_->set_sysctl("net.ipv6.fwmark_reflect", "0"));
  for (const char* address : {"10.78.0.1", "fd78::1"})
    EXPECT_FALSE(run_in(&*peer, ping(address)).ok()) << address;
}

// peer (behind the vif) -> test netns (forwarding on) -> world (behind up0). Counters in
// world tell masqueraded requests from ones that kept the vif side's source address.
TEST_F(NftVifTest, ForwardingFromAVifNeedsSnatAndGoesOnlyToUplinks) {
  auto peer = linked_netns(kVif, "v0", 78);
  ASSERT_TRUE(peer);
  auto world = linked_netns("up0", "w0", 79);
  ASSERT_TRUE(world);
  ASSERT_OK(ns_->set_sysctl("net.ipv4.ip_forward", "1"));
  ASSERT_OK(ns_->set_sysctl("net.ipv6.conf.all.forwarding", "1"));
  for (const auto& [ns, args] : std::vector<std::pair<const Netns*, std::vector<std::string>>>{
           {&*peer, {"ip", "route", "add", "default", "via", "10.78.0.1"}},
           {&*peer, {"ip", "-6", "route", "add", "default", "via", "fd78::1"}},
           {&*world, {"ip", "route", "add", "10.78.0.0/24", "via", "10.79.0.1"}},
           {&*world, {"ip", "-6", "route", "add", "fd78::/64", "via", "fd79::1"}}}) {
    ProcessResult r = run_in(ns, args);
    ASSERT_TRUE(r.ok()) << r.describe();
  }
  const std::string rules = R"(
table inet t {
  chain in {
    type filter hook input priority 0;
    ip saddr 10.79.0.1 icmp type echo-request counter
    ip saddr 10.78.0.2 icmp type echo-request counter
    ip6 saddr fd79::1 icmpv6 type echo-request counter
    ip6 saddr fd78::2 icmpv6 type echo-request counter
  }
}
)";
  ProcessResult loaded = nft(*world, {"-f", "-"}, rules);
  ASSERT_TRUE(loaded.ok()) << loaded.describe();
  auto world_counters = [&] { return counters(list_json(*world, "t"), "in"); };
  const std::vector<std::string> far = {"10.79.0.2", "fd79::2"};
  std::map<uint32_t, uint32_t> slices = {{7, kMark7}};

  // Not a vif: plain routing, source kept.
  sync({slices, {}, {"up0"}});
  for (const auto& address : far) EXPECT_TRUE(run_in(&*peer, ping(address)).ok()) << address;
  EXPECT_EQ(world_counters(), (std::vector<uint64_t>{0, 1, 0, 1}));

  sync({slices, {{kVif, 7, false}}, {"up0"}});
  for (const auto& address : far)
    EXPECT_FALSE(run_in(&*peer, ping(address)).ok()) << address << ": no snat, no forwarding";
  sync({slices, {{kVif, 7, true}}, {}});
  for (const auto& address : far)
    EXPECT_FALSE(run_in(&*peer, ping(address)).ok()) << address << ": up0 is not an uplink";
  EXPECT_EQ(world_counters(), (std::vector<uint64_t>{0, 1, 0, 1})) << "nothing reached world";

  sync({slices, {{kVif, 7, true}}, {"up0"}});
  for (const auto& address : far) {
    ProcessResult r = run_in(&*peer, ping(address));
    EXPECT_TRUE(r.ok()) << address << ": snat to an uplink: " << r.describe();
  }
  EXPECT_EQ(world_counters(), (std::vector<uint64_t>{1, 1, 1, 1})) << "masqueraded to up0's addresses";

  // New connections from the uplink side never reach the vif.
  for (const char* address : {"10.78.0.2", "fd78::2"})
    EXPECT_FALSE(run_in(&*world, ping(address)).ok()) << address << ": from the uplink into the vif";
}

}  // namespace
}  // namespace netd::testing
