// netd's rule tree (netd/ops/rule_tree.h) in the kernel: what `ip rule` shows, the kernel's own
// route lookups for every slice's mark at N = 2, 3, 64 and 4095 slices (ids at the edges of the
// mask among them), adoption after SIGKILL with no duplicate and no gap, teardown, and rules of
// others inside netd's priorities left alone.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "tests/fixtures/json.h"
#include "tests/integration/common/invariants.h"
#include "tests/integration/common/testbed_test.h"

namespace netd::testing {
namespace {

using ::testing::IsEmpty;

constexpr uint32_t kEnd = 13288;  // the nop ending the block: 1000 + 1 + (3 * 4096 - 1)

std::string hex(uint32_t v) {
  char buf[16];
  snprintf(buf, sizeof buf, "0x%x", v);
  return buf;
}

class RuleTreeInKernel : public TestbedTest {
 protected:
  // alice (7) and bob (8), and these ids as slices s<id> (uid 20000 + id) that may route.
  static std::string extra_slices(const std::vector<uint32_t>& ids) {
    std::string out;
    for (uint32_t id : ids)
      out += "\n[[slice]]\nname = \"s" + std::to_string(id) + "\"\nid = " + std::to_string(id) + "\nuids = [" +
             std::to_string(20000 + id) + "]\nroute_devices = [\"uplink1\"]\nroute_prefixes = [\"198.51.100.0/24\"]\n";
    return out;
  }

  // The kernel's answer, table by table, to a route lookup of 198.51.100.7 with each mark
  // ("main" when it names none): one `ip -batch` for them all.
  std::vector<std::string> tables_for(const std::vector<uint32_t>& marks) {
    std::string batch;
    for (uint32_t mark : marks) batch += "route get 198.51.100.7 mark " + hex(mark) + "\n";
    std::string path = bed_->dir() + "/lookups.batch";
    std::ofstream(path) << batch;
    auto r = bed_->root({"ip", "-j", "-batch", path});
    EXPECT_TRUE(r.ok()) << r.describe();
    std::vector<std::string> out;
    size_t start = 0;
    while (start < r.out.size()) {
      size_t end = r.out.find('\n', start);
      if (end == std::string::npos) end = r.out.size();
      auto line = r.out.substr(start, end - start);
      start = end + 1;
      if (line.empty()) continue;
      auto j = json_of(line);
      out.push_back(j.is_array() && !j.empty() ? j[0].value("table", "main") : "?");
    }
    return out;
  }

  // Every slice's route made by root in its table, then netd killed and started again: it
  // adopts them all, making the tree in one reconcile.
  void route_each_and_restart(const std::vector<uint32_t>& ids) {
    std::string batch;
    for (uint32_t id : ids)
      batch += "route add 198.51.100.0/24 via 10.0.2.2 dev uplink1 table " + std::to_string(10000 + id) + "\n";
    std::string path = bed_->dir() + "/routes.batch";
    std::ofstream(path) << batch;
    auto added = bed_->root({"ip", "-batch", path});
    ASSERT_TRUE(added.ok()) << added.describe();
    bed_->kill_netd(SIGKILL);
    ASSERT_OK(bed_->start_netd());
  }

  // Each slice's packets take its table, a packet of no slice and one of an id with no slice
  // take main, as the kernel routes them; then a SIGKILL and a restart change no rule.
  void expect_each_slice_routed(const std::vector<uint32_t>& ids, const std::vector<uint32_t>& absent) {
    std::vector<uint32_t> marks;
    for (uint32_t id : ids) marks.push_back(id << 16);
    for (uint32_t id : absent) marks.push_back(id << 16);
    marks.push_back(0);
    marks.push_back(0x10000000);  // raw_flag alone
    auto tables = tables_for(marks);
    ASSERT_EQ(tables.size(), marks.size());
    for (size_t i = 0; i < ids.size(); ++i)
      ASSERT_EQ(tables[i], std::to_string(10000 + ids[i])) << "slice id " << ids[i] << " of " << ids.size();
    for (size_t i = ids.size(); i < marks.size(); ++i) EXPECT_EQ(tables[i], "main") << "mark " << hex(marks[i]);
    // The whole checker reads every slice's nft and bpf state too, which at 4095 slices takes
    // minutes; the kernel's own lookups above already cover the rules there.
    if (ids.size() <= 64) {
      EXPECT_THAT(settled_invariants(*bed_), IsEmpty());
    }

    auto before = bed_->netd_rules();
    bed_->kill_netd(SIGKILL);
    ASSERT_OK(bed_->start_netd());
    EXPECT_EQ(bed_->netd_rules(), before) << "adoption after SIGKILL: no duplicate, no gap";

    bed_->stop_netd();
    auto down = bed_->root({netd_binary(), "--policy", bed_->policy_path(), "--teardown"});
    EXPECT_TRUE(down.ok()) << down.describe();
    EXPECT_THAT(bed_->netd_rules(), IsEmpty());
  }
};

// One slice's tree as `ip rule` shows it, growing and shrinking with the slices' routes, in
// both families.
TEST_F(RuleTreeInKernel, TheTreeFollowsTheSlicesRoutes) {
  ASSERT_TRUE(bed_->sliceip(kAlice, {"route", "add", "198.51.100.0/24", "via", "10.0.2.2"}).ok());
  auto rules = bed_->netd_rules();
  ASSERT_EQ(rules.size(), 16u) << rules.dump();  // entry, 12 bit tests, lookup, its exit, nop
  EXPECT_EQ(rules.front(), json_of(R"({"priority":1000,"src":"all","fwmark":"0","fwmask":"0xfff0000","goto":13288})"));
  EXPECT_EQ(rules.back(), json_of(R"({"priority":13288,"src":"all","nop":null})"));
  auto lookups = bed_->slice_rules();
  ASSERT_EQ(lookups.size(), 1u);
  EXPECT_EQ(lookups[0]["fwmark"], "0x70000");
  EXPECT_EQ(lookups[0]["table"], "10007");
  EXPECT_THAT(bed_->netd_rules("-6"), IsEmpty()) << "no IPv6 route, no IPv6 rule";
  EXPECT_EQ(bed_->connect_source(kAlice, "198.51.100.7"), "10.0.2.1");
  EXPECT_EQ(bed_->connect_source(kBob, "198.51.100.7"), "10.0.1.1");

  // bob (8 = 0b1000) parts from alice (7 = 0b0111) at the 4th bit from the end: his lookup,
  // its exit and the three bit tests below that.
  ASSERT_TRUE(bed_->sliceip(kBob, {"route", "add", "198.51.100.0/24", "via", "10.0.2.2"}).ok());
  EXPECT_EQ(bed_->netd_rules().size(), 21u);
  EXPECT_EQ(bed_->connect_source(kBob, "198.51.100.7"), "10.0.2.1");
  ASSERT_TRUE(bed_->sliceip(kAlice, {"route", "add", "2001:db8:100::/64", "via", "fd00:2::2"}).ok());
  EXPECT_EQ(bed_->netd_rules("-6").size(), 16u);
  EXPECT_EQ(bed_->connect_source(kAlice, "2001:db8:100::7"), "fd00:2::1");
  EXPECT_THAT(settled_invariants(*bed_), IsEmpty());

  ASSERT_TRUE(bed_->sliceip(kAlice, {"route", "flush"}).ok());
  EXPECT_EQ(bed_->netd_rules().size(), 16u) << "bob's tree";
  EXPECT_THAT(bed_->netd_rules("-6"), IsEmpty());
  EXPECT_EQ(bed_->connect_source(kAlice, "198.51.100.7"), "10.0.1.1");
  EXPECT_EQ(bed_->connect_source(kBob, "198.51.100.7"), "10.0.2.1");
  ASSERT_TRUE(bed_->sliceip(kBob, {"route", "flush"}).ok());
  EXPECT_THAT(bed_->netd_rules(), IsEmpty());
  EXPECT_THAT(settled_invariants(*bed_), IsEmpty());
}

TEST_F(RuleTreeInKernel, TwoSlices) {
  route_each_and_restart({7, 8});
  expect_each_slice_routed({7, 8}, {1, 6, 9, 4095});
}

class RuleTreeOfThree : public RuleTreeInKernel {
  TestbedOptions testbed_options() const override { return {.extra_bob = extra_slices({4095})}; }
};
TEST_F(RuleTreeOfThree, IdsAtBothEdgesOfTheMask) {
  route_each_and_restart({7, 8, 4095});
  expect_each_slice_routed({7, 8, 4095}, {1, 4094, 2048});
}

class RuleTreeOfSixtyFour : public RuleTreeInKernel {
 public:
  static std::vector<uint32_t> extra() {
    std::vector<uint32_t> ids = {1, 2, 2047, 2048, 4094, 4095};
    for (uint32_t id = 100; ids.size() < 62; id += 61) ids.push_back(id);
    return ids;
  }
  TestbedOptions testbed_options() const override { return {.extra_bob = extra_slices(extra())}; }
};
TEST_F(RuleTreeOfSixtyFour, EachSliceTakesItsTable) {
  std::vector<uint32_t> ids = extra();
  ids.push_back(7);
  ids.push_back(8);
  route_each_and_restart(ids);
  expect_each_slice_routed(ids, {3, 2046, 2049, 4093});
}

class RuleTreeOfAll : public RuleTreeInKernel {
 public:
  static std::vector<uint32_t> extra() {
    std::vector<uint32_t> ids;
    for (uint32_t id = 1; id <= 4095; ++id)
      if (id != 7 && id != 8) ids.push_back(id);
    return ids;
  }
  TestbedOptions testbed_options() const override { return {.extra_bob = extra_slices(extra())}; }
};
TEST_F(RuleTreeOfAll, EveryIdTheMaskHoldsTakesItsTable) {
  std::vector<uint32_t> ids = extra();
  ids.push_back(7);
  ids.push_back(8);
  route_each_and_restart(ids);
  expect_each_slice_routed(ids, {});
}

// Rules someone else put among netd's priorities are neither adopted nor removed.
TEST_F(RuleTreeInKernel, RulesOfOthersInTheBlockStay) {
  const std::vector<std::vector<std::string>> others = {
      {"priority", "1005", "iif", "lo", "goto", "2000"},
      {"priority", "2000", "fwmark", "0x1/0x1", "lookup", "500"},
      {"priority", "1031", "not", "fwmark", "0x70000/0xfff0000", "lookup", "main"}};
  for (auto words : others) {
    words.insert(words.begin(), {"ip", "rule", "add"});
    ASSERT_TRUE(bed_->root(words).ok());
  }
  auto count_others = [&] {
    size_t n = 0;
    for (const auto& r : bed_->netd_rules())
      if (r.contains("iif") || r.value("table", "") == "500" || r.contains("not")) ++n;
    return n;
  };
  ASSERT_TRUE(bed_->sliceip(kAlice, {"route", "add", "198.51.100.0/24", "via", "10.0.2.2"}).ok());
  bed_->kill_netd(SIGKILL);
  ASSERT_OK(bed_->start_netd());
  ASSERT_OK(bed_->reload_netd());
  EXPECT_EQ(count_others(), 3u);
  ASSERT_TRUE(bed_->sliceip(kAlice, {"route", "flush"}).ok());
  EXPECT_EQ(count_others(), 3u);
  bed_->stop_netd();
  EXPECT_TRUE(bed_->root({netd_binary(), "--policy", bed_->policy_path(), "--teardown"}).ok());
  EXPECT_EQ(bed_->netd_rules().size(), 3u) << bed_->netd_rules().dump();
}

}  // namespace
}  // namespace netd::testing
