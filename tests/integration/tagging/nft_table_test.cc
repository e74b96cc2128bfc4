// NetdNftTable: `table inet netd` holds one save and one restore chain per slice behind two
// verdict maps; resync adds/removes exactly the difference; replies of a slice's connections
// get the slice mark back while mark bits of other users survive; teardown leaves nothing.
#include "netd/kernel/nft/netd_nft_table.h"

#include <linux/netfilter.h>

#include <algorithm>
#include <random>

#include "netd/kernel/nft/netd_table_layout.h"
#include "netd/kernel/nft/nft_socket.h"
#include "netd/kernel/nft/table_plan.h"

#include "netd/kernel/bpf/slice_tagger.h"
#include "tests/fixtures/veth.h"
#include "tests/integration/tagging/nft_test_env.h"

namespace netd::testing {
namespace {

using kernel::NetdNftTable;
using kernel::NftSocket;
using kernel::NftWanted;
using kernel::TableState;
using kernel::netd_table_layout;
using kernel::read_table_state;
using kernel::state_of;

// The kernel's `table inet netd` (read from it, in the calling thread's netns) holds exactly
// what a fresh layout of `wanted` holds: the same chains with the same rules, the same elements.
void expect_kernel_holds(const NftWanted& wanted) {
  auto socket = NftSocket::open();
  ASSERT_OK(socket);
  auto read = read_table_state(*socket, NFPROTO_INET, NetdNftTable::kTable);
  ASSERT_OK(read);
  TableState memory = state_of(netd_table_layout(kMask, wanted));
  for (const auto& [name, chain] : memory.chains) {
    ASSERT_TRUE(read->chains.count(name)) << name;
    EXPECT_EQ(read->chains.at(name).rules, chain.rules) << name;
  }
  EXPECT_EQ(read->chains.size(), memory.chains.size());
  for (const auto& [name, set] : memory.sets) {
    ASSERT_TRUE(read->sets.count(name)) << name;
    EXPECT_EQ(read->sets.at(name).elements, set.elements) << name;
    EXPECT_EQ(read->sets.at(name).key_len, set.key_len) << name;
    EXPECT_EQ(read->sets.at(name).data_type, set.data_type) << name;
  }
}

TEST_F(NftTableTest, HoldsOneChainPairPerSliceBehindTwoVerdictMaps) {
  in_netns([&] {
    auto table = NetdNftTable::open(kMask);
    ASSERT_OK(table);
    ASSERT_OK(table->sync_slices({{7, 7u << 16}, {8, 8u << 16}}));
  });
  ListedTable t = list_netd();
  EXPECT_EQ(t.chains, base_and({"slice_7", "slice_7_in", "slice_8", "slice_8_in"}));
  EXPECT_EQ(t.maps["slice_marks"], (std::map<uint64_t, std::string>{{7u << 16, "slice_7"}, {8u << 16, "slice_8"}}));
  EXPECT_EQ(t.maps["slice_ct_marks"],
            (std::map<uint64_t, std::string>{{7u << 16, "slice_7_in"}, {8u << 16, "slice_8_in"}}));
  // nft(8) reads it back as the rules it would have written itself (keys in host order). It
  // prints (x & 0xf000ffff) ^ MARK as the equivalent x & (0xf000ffff | MARK) | MARK.
  std::string text = list_netd_text();
  for (const char* expected :
       {"type mark : verdict", "0x00070000 : jump slice_7", "type route hook output priority mangle",
        "meta mark & 0x0fff0000 vmap @slice_marks", "type filter hook prerouting priority mangle",
        "ct mark & 0x0fff0000 vmap @slice_ct_marks", "ct mark set ct mark & 0xf007ffff | 0x00070000",
        "meta mark set meta mark & 0xf008ffff | 0x00080000"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << "missing '" << expected << "' in\n" << text;
  }
}

TEST_F(NftTableTest, ResyncChangesExactlyTheDifference) {
  in_netns([&] {
    auto table = NetdNftTable::open(kMask);
    ASSERT_OK(table);
    ASSERT_OK(table->sync_slices({{7, 7u << 16}, {8, 8u << 16}}));
    ASSERT_OK(table->sync_slices({{7, 7u << 16}}));
    EXPECT_GT(table->last_sync_messages(), 0u);
    ASSERT_OK(table->sync_slices({{7, 7u << 16}}));
    EXPECT_EQ(table->last_sync_messages(), 0u) << "an unchanged set of slices must send nothing";
  });
  ListedTable t = list_netd();
  EXPECT_EQ(t.chains, base_and({"slice_7", "slice_7_in"}));
  EXPECT_EQ(t.maps["slice_marks"], (std::map<uint64_t, std::string>{{7u << 16, "slice_7"}}));
  EXPECT_EQ(t.maps["slice_ct_marks"], (std::map<uint64_t, std::string>{{7u << 16, "slice_7_in"}}));

  in_netns([&] {  // a slice's mark changes; another slice takes its old mark
    auto table = NetdNftTable::open(kMask);
    ASSERT_OK(table);
    ASSERT_OK(table->sync_slices({{7, 9u << 16}, {8, 7u << 16}}));
  });
  t = list_netd();
  EXPECT_EQ(t.maps["slice_marks"], (std::map<uint64_t, std::string>{{9u << 16, "slice_7"}, {7u << 16, "slice_8"}}));
  std::string text = list_netd_text();
  EXPECT_NE(text.find("ct mark set ct mark & 0xf009ffff | 0x00090000"), std::string::npos) << text;
}

// Once synced, netd plans a different request from what its last sync left (no dump of the
// tables, O(change)) for as long as nobody else commits; what it then commits leaves the
// tables exactly as memory says. Anyone's commit sends the next sync back to reading them.
TEST_F(NftTableTest, ChangesArePlannedFromMemoryUntilSomeoneElseCommits) {
  std::optional<NetdNftTable> table;  // its socket stays bound to the test netns
  in_netns([&] {
    auto opened = NetdNftTable::open(kMask);
    ASSERT_OK(opened);
    table.emplace(std::move(opened).value());
    ASSERT_OK(table->sync_slices({{7, 7u << 16}, {8, 8u << 16}}));
    EXPECT_TRUE(table->last_sync_read_tables()) << "the first sync reads them";
    ASSERT_OK(table->sync_slices({{7, 7u << 16}, {9, 9u << 16}}));
    EXPECT_FALSE(table->last_sync_read_tables());
    EXPECT_GT(table->last_sync_messages(), 0u);
    NftWanted wanted;
    wanted.slices = {{7, 7u << 16}, {9, 9u << 16}};
    expect_kernel_holds(wanted);
  });
  ASSERT_TRUE(table);
  // Someone else's commit: an element netd did not make.
  auto added = nft(*ns_, {"add", "element", "inet", "netd", "slice_marks", "{ 0x50000 : jump slice_7 }"});
  ASSERT_TRUE(added.ok()) << added.describe();
  in_netns([&] {
    ASSERT_OK(table->sync_slices({{7, 7u << 16}}));
    EXPECT_TRUE(table->last_sync_read_tables()) << "the generation moved: read again";
  });
  ListedTable t = list_netd();
  EXPECT_EQ(t.chains, base_and({"slice_7", "slice_7_in"}));
  EXPECT_EQ(t.maps["slice_marks"], (std::map<uint64_t, std::string>{{7u << 16, "slice_7"}}));
}

// Planned from memory, a sync lays out only the slices and vifs that changed (a partial
// layout); whatever the change, the kernel then holds what a full layout says. 60 random
// changes: slices added, removed, given another slice's mark or a new one; vifs added,
// removed, moved to another owner, snat switched.
TEST_F(NftTableTest, PartialSyncsLeaveWhatAFullLayoutSays) {
  std::mt19937 random(20261207);
  auto pick = [&](uint32_t below) { return static_cast<uint32_t>(random() % below); };
  NftWanted wanted;
  for (uint32_t id = 7; id < 27; ++id) wanted.slices[id] = id << 16;
  for (uint32_t n = 0; n < 6; ++n) wanted.vifs.push_back({"tun" + std::to_string(7 + n) + "-0", 7 + n, n % 2 == 0, {}});
  wanted.uplinks = {"eth0"};
  in_netns([&] {
    auto table = NetdNftTable::open(kMask);
    ASSERT_OK(table);
    ASSERT_OK(table->sync(wanted));
    for (int step = 0; step < 60; ++step) {
      std::vector<uint32_t> ids;
      for (const auto& [id, mark] : wanted.slices) ids.push_back(id);
      const uint32_t id = ids[pick(static_cast<uint32_t>(ids.size()))];
      auto free_mark = [&] {
        for (;;) {
          uint32_t mark = (1 + pick(200)) << 16;
          bool used = std::any_of(wanted.slices.begin(), wanted.slices.end(), [&](const auto& s) { return s.second == mark; });
          if (!used) return mark;
        }
      };
      switch (pick(7)) {
        case 0:  // a new slice
          wanted.slices[300 + static_cast<uint32_t>(step)] = free_mark();
          break;
        case 1:  // a slice goes (with its vifs)
          if (wanted.slices.size() > 2) {
            wanted.slices.erase(id);
            std::erase_if(wanted.vifs, [&](const auto& v) { return v.slice_id == id; });
          }
          break;
        case 2:  // a new mark
          wanted.slices[id] = free_mark();
          break;
        case 3: {  // two slices swap marks
          const uint32_t other = ids[pick(static_cast<uint32_t>(ids.size()))];
          std::swap(wanted.slices[id], wanted.slices[other]);
          break;
        }
        case 4:  // a vif
          wanted.vifs.push_back({"tap" + std::to_string(id) + "-" + std::to_string(step), id, pick(2) == 0, {}});
          break;
        case 5:  // a vif goes
          if (!wanted.vifs.empty()) wanted.vifs.erase(wanted.vifs.begin() + pick(static_cast<uint32_t>(wanted.vifs.size())));
          break;
        default:  // a vif changes hands or snat
          if (!wanted.vifs.empty()) {
            auto& vif = wanted.vifs[pick(static_cast<uint32_t>(wanted.vifs.size()))];
            if (pick(2) == 0) vif.slice_id = id; else vif.snat = !vif.snat;
          }
      }
      SCOPED_TRACE("step " + std::to_string(step));
      ASSERT_OK(table->sync(wanted));
      EXPECT_FALSE(table->last_sync_read_tables()) << "step " << step;
      expect_kernel_holds(wanted);
      if (HasFailure()) FAIL() << "after step " << step;
    }
  });
}

// A reload of plain slices (no vif, no send devices) hands the table only their ids: it checks
// and lays out those slices alone, and the kernel then holds what a full layout says. 40 random
// steps of slices added, removed and re-marked beside vifs; an id that owns a vif goes the
// whole way (sync), with the same outcome.
TEST_F(NftTableTest, SlicesChangedAloneLeaveWhatAFullLayoutSays) {
  std::mt19937 random(20261208);
  auto pick = [&](uint32_t below) { return static_cast<uint32_t>(random() % below); };
  NftWanted wanted;
  for (uint32_t id = 7; id < 27; ++id) wanted.slices[id] = id << 16;
  for (uint32_t n = 0; n < 4; ++n) wanted.vifs.push_back({"tun" + std::to_string(7 + n) + "-0", 7 + n, n % 2 == 0, {}});
  wanted.uplinks = {"eth0"};
  in_netns([&] {
    auto table = NetdNftTable::open(kMask);
    ASSERT_OK(table);
    ASSERT_OK(table->sync(wanted));
    for (int step = 0; step < 40; ++step) {
      SCOPED_TRACE("step " + std::to_string(step));
      std::vector<uint32_t> ids;
      const uint32_t id = 11 + pick(30);  // 7..10 own the vifs; 41+ for new ones
      switch (pick(3)) {
        case 0:
          wanted.slices[id] = (100 + id) << 16;  // a mark no other id has
          break;
        case 1:
          wanted.slices.erase(id);
          break;
        default:
          wanted.slices[41 + static_cast<uint32_t>(step)] = (41 + static_cast<uint32_t>(step)) << 16;
          ids.push_back(41 + static_cast<uint32_t>(step));
      }
      ids.push_back(id);
      ASSERT_OK(table->sync_slices_changed(wanted, ids));
      EXPECT_FALSE(table->last_sync_read_tables());
      expect_kernel_holds(wanted);
      ASSERT_OK(table->sync(wanted));
      EXPECT_EQ(table->last_sync_messages(), 0u) << "the table's record of what it synced is right";
      if (HasFailure()) FAIL() << "after step " << step;
    }
    // A vif owner's new mark is also in its vif's chain: the whole way, the same outcome.
    wanted.slices[7] = 200u << 16;
    ASSERT_OK(table->sync_slices_changed(wanted, {7}));
    expect_kernel_holds(wanted);
  });
}

// The marks of the slices named are checked as a whole sync checks them; a refused change
// leaves the table as it was.
TEST_F(NftTableTest, SlicesChangedRefusesMarksThatWouldMisroutePackets) {
  NftWanted wanted;
  wanted.slices = {{7, 7u << 16}, {8, 8u << 16}};
  in_netns([&] {
    auto table = NetdNftTable::open(kMask);
    ASSERT_OK(table);
    ASSERT_OK(table->sync(wanted));
    for (auto [mark, says] : {std::pair<uint32_t, const char*>{0, "slice 9 mark .*: a slice mark must not be 0"},
                              {0x1, "slice 9 mark 0x00000001 has bits outside mark_mask"},
                              {7u << 16, "slice 9 mark 0x00070000 is used by another slice too"}}) {
      NftWanted bad = wanted;
      bad.slices[9] = mark;
      EXPECT_ERR(table->sync_slices_changed(bad, {9}), EINVAL, says);
      expect_kernel_holds(wanted);
    }
    ASSERT_OK(table->sync(wanted));
    EXPECT_EQ(table->last_sync_messages(), 0u);
  });
}

TEST_F(NftTableTest, AnotherMaskRebuildsTheContents) {
  in_netns([&] {
    auto table = NetdNftTable::open(kMask);
    ASSERT_OK(table);
    ASSERT_OK(table->sync_slices({{7, 7u << 16}, {8, 8u << 16}}));
    auto narrower = NetdNftTable::open(0x00ff0000);
    ASSERT_OK(narrower);
    ASSERT_OK(narrower->sync_slices({{7, 7u << 16}}));
  });
  std::string text = list_netd_text();
  EXPECT_NE(text.find("meta mark & 0x00ff0000 vmap @slice_marks"), std::string::npos) << text;
  EXPECT_NE(text.find("ct mark set ct mark & 0xff07ffff | 0x00070000"), std::string::npos) << text;
  EXPECT_EQ(text.find("0x0fff0000"), std::string::npos) << text;
  EXPECT_EQ(list_netd().chains, base_and({"slice_7", "slice_7_in"}));
}

TEST_F(NftTableTest, RefusesMarksThatWouldMisroutePackets) {
  in_netns([&] {
    auto table = NetdNftTable::open(kMask);
    ASSERT_OK(table);
    EXPECT_ERR(table->sync_slices({{7, 0}}), EINVAL, "must not be 0");
    EXPECT_ERR(table->sync_slices({{7, 0x1}}), EINVAL, "outside mark_mask");
    EXPECT_ERR(table->sync_slices({{7, 7u << 16}, {8, 7u << 16}}), EINVAL, "another slice");
  });
}

TEST_F(NftTableTest, ManySlicesGoInOneTransactionOfChunkedMessages) {
  std::map<uint32_t, uint32_t> slices;
  for (uint32_t id = 1; id <= 1500; ++id) slices[id] = id << 16;  // > 2 * 512 elements per map
  in_netns([&] {
    auto table = NetdNftTable::open(kMask);
    ASSERT_OK(table);
    ASSERT_OK(table->sync_slices(slices));
    ASSERT_OK(table->sync_slices(slices));
    EXPECT_EQ(table->last_sync_messages(), 0u);
  });
  ListedTable t = list_netd();
  EXPECT_EQ(t.chains.size(), kBaseChains.size() + 2 * slices.size());
  EXPECT_EQ(t.maps["slice_marks"].size(), slices.size());
  EXPECT_EQ(t.maps["slice_ct_marks"].size(), slices.size());
  EXPECT_EQ(t.maps["slice_marks"][1500u << 16], "slice_1500");
}

TEST_F(NftTableTest, TeardownLeavesNoTable) {
  in_netns([&] {
    auto table = NetdNftTable::open(kMask);
    ASSERT_OK(table);
    ASSERT_OK(table->sync_slices({{7, 7u << 16}}));
    ASSERT_OK(NetdNftTable::teardown());
    ASSERT_OK(NetdNftTable::teardown());  // nothing there: still fine
  });
  ProcessResult r = nft(*ns_, {"list", "tables"});
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.out, "") << r.describe();
}

TEST_F(NftTableTest, RepliesGetTheSliceMarkAndForeignBitsSurvive) {
  auto server_ns = Netns::create();
  ASSERT_OK(server_ns);
  ASSERT_OK(add_veth_pair({&*ns_, "va", "10.77.0.1/24"}, {&*server_ns, "vb", "10.77.0.2/24"}));

  auto tagger = kernel::SliceTagger::open({bpffs_->path() + "/netd", cgroup_->path(), kMask});
  ASSERT_OK(tagger);
  ASSERT_OK(tagger->sync({{kMember, kSliceMark}}, {}));
  in_netns([&] {
    auto table = NetdNftTable::open(kMask);
    ASSERT_OK(table);
    ASSERT_OK(table->sync_slices({{7, kSliceMark}}));
  });
  // Another mark user: sets bit 0x2 of every ct mark just before netd saves (output), and bit
  // 0x1 of every inbound packet's mark just before netd restores (prerouting). Both must
  // survive netd's rules.
  const std::string rules = R"(
table inet t {
  chain out_early { type filter hook output priority -160; ct mark set ct mark | 0x2; }
  chain pre_early { type filter hook prerouting priority -160; meta mark set meta mark | 0x1; }
  chain in_late {
    type filter hook input priority 10;
    tcp sport 5001 meta mark & 0x0fff0000 == 0x70000 counter
    tcp sport 5001 meta mark 0x70001 counter
    tcp sport 5001 ct mark 0x70002 counter
    tcp sport 5002 counter
    tcp sport 5002 meta mark & 0x0fff0000 != 0 counter
  }
}
)";
  ProcessResult loaded = nft(*ns_, {"-f", "-"}, rules);
  ASSERT_TRUE(loaded.ok()) << loaded.describe();

  for (const char* port : {"5001", "5002"}) {
    auto server = spawn_in(&*server_ns, {TAGGING_PROBE, "tcp-server", port});
    ASSERT_OK(server);
    ASSERT_EQ(server->read_line(), std::optional<std::string>("listening"));
    uint32_t uid = std::string(port) == "5001" ? kMember : kStranger;
    ProcessResult client = run_as(uid, uid, &*ns_, cgroup_->path(), {TAGGING_PROBE, "tcp-client", "10.77.0.2", port});
    EXPECT_TRUE(client.ok()) << client.describe();
    EXPECT_EQ(client.out, "hello\n");
    EXPECT_EQ(server->wait().exit_code, 0);
  }

  ProcessResult listing = nft(*ns_, {"-j", "list", "table", "inet", "t"});
  ASSERT_TRUE(listing.ok()) << listing.describe();
  std::vector<uint64_t> c = counters(json_of(listing.out), "in_late");
  ASSERT_EQ(c.size(), 5u) << listing.out;
  EXPECT_GT(c[0], 0u) << "the member's replies carry the slice mark: " << listing.out;
  EXPECT_EQ(c[1], c[0]) << "packet mark bits outside the mask survive the restore: " << listing.out;
  EXPECT_EQ(c[2], c[0]) << "ct mark bits outside the mask survive the save: " << listing.out;
  EXPECT_GT(c[3], 0u) << "the stranger's connection worked: " << listing.out;
  EXPECT_EQ(c[4], 0u) << "the stranger's replies stay unmarked: " << listing.out;
}

}  // namespace
}  // namespace netd::testing
