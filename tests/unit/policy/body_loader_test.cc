// SliceBodyLoader: loads after the first parse only the bodies that changed, share the others'
// specs with the previous policy, and refuse exactly what a fresh parse refuses, with its lines.
#include "netd/policy/body_loader.h"

#include "netd/policy/loader.h"
#include "tests/unit/policy/policy_test_util.h"

namespace netd::policy {
namespace {

using testing::netd_table;

SliceBody body(const std::string& name, int id, int uid, const std::string& extra = "") {
  return {"etcd:/netd/slices/" + name, name,
          "id = " + std::to_string(id) + "\nuids = [" + std::to_string(uid) + "]\n" + extra};
}

std::vector<SliceBody> fleet(int n) {
  std::vector<SliceBody> out;
  for (int i = 1; i <= n; ++i) out.push_back(body("s" + std::to_string(i), i, 2000 + i));
  return out;
}

const std::string kMain = netd_table() + "[[slice]]\nname = \"ops\"\nid = 100\nuids = [1500]\n";

TEST(SliceBodyLoads, OnlyChangedBodiesAreParsedAndTheRestShared) {
  SliceBodyLoader loader;
  auto bodies = fleet(50);
  auto first = loader.load(kMain, "p.toml", bodies);
  ASSERT_OK(first);
  EXPECT_EQ(loader.last_bodies_parsed(), 50u);
  bodies[9] = body("s10", 10, 2010, "rate = \"5mbit\"\n");
  bodies.erase(bodies.begin() + 20);                  // s21 gone
  bodies.push_back(body("new", 300, 3000));           // one more
  auto second = loader.load(kMain, "p.toml", bodies);
  ASSERT_OK(second);
  EXPECT_EQ(loader.last_bodies_parsed(), 2u);
  ASSERT_EQ(second->slices.size(), 51u);
  EXPECT_EQ(second->slices.shared(0), first->slices.shared(0));  // the main file's ops
  EXPECT_EQ(second->slices.shared(1), first->slices.shared(1));  // s1
  EXPECT_NE(second->slices.shared(10), first->slices.shared(10));  // s10, changed
  EXPECT_EQ(second->slices[10].rate_bps, 5'000'000u);
  EXPECT_EQ(second->slices[10].ceil_bps, 5'000'000u);
  EXPECT_EQ(second->slices.back().name, "new");
  EXPECT_EQ(second->find_by_name("s21"), nullptr);
  // The same as a fresh parse.
  auto fresh = parse_policy_with_slices(kMain, "p.toml", bodies);
  ASSERT_OK(fresh);
  ASSERT_EQ(fresh->slices.size(), second->slices.size());
  for (size_t i = 0; i < fresh->slices.size(); ++i) EXPECT_EQ(fresh->slices[i], second->slices[i]);
}

TEST(SliceBodyLoads, ARefusalAgainstARememberedSliceNamesItsLine) {
  SliceBodyLoader loader;
  auto bodies = fleet(5);
  ASSERT_OK(loader.load(kMain, "p.toml", bodies));
  bodies.push_back(body("dup", 200, 2003));  // s3's uid
  EXPECT_ERR(loader.load(kMain, "p.toml", bodies), EINVAL,
             "^etcd:/netd/slices/dup:2: slice\\[dup\\]\\.uids: uid 2003 is already a member of slice s3 "
             "\\(etcd:/netd/slices/s3:2\\)");
  // And against the main file's.
  bodies.back() = body("dup", 100, 2999);
  EXPECT_ERR(loader.load(kMain, "p.toml", bodies), EINVAL,
             "^etcd:/netd/slices/dup:1: slice\\[dup\\]\\.id: 100 is already the id of slice ops \\(p\\.toml:6\\)");
}

TEST(SliceBodyLoads, ARefusedLoadLeavesMemoryAsItWas) {
  SliceBodyLoader loader;
  auto bodies = fleet(3);
  auto first = loader.load(kMain, "p.toml", bodies);
  ASSERT_OK(first);
  auto bad = bodies;
  bad[1] = body("s2", 1, 2002);  // s1's id
  EXPECT_ERR(loader.load(kMain, "p.toml", bad), EINVAL, "slice\\[s2\\]\\.id: 1 is already the id of slice s1");
  auto again = loader.load(kMain, "p.toml", bodies);
  ASSERT_OK(again);
  EXPECT_EQ(loader.last_bodies_parsed(), 0u);
  EXPECT_EQ(again->slices.shared(2), first->slices.shared(2));
}

TEST(SliceBodyLoads, AFreedClaimCanBeTakenByAnother) {
  SliceBodyLoader loader;
  auto bodies = fleet(3);
  ASSERT_OK(loader.load(kMain, "p.toml", bodies));
  bodies.erase(bodies.begin());              // s1 (id 1, uid 2001) gone ...
  bodies.push_back(body("heir", 1, 2001));   // ... and its id and uid given to another
  auto policy = loader.load(kMain, "p.toml", bodies);
  ASSERT_OK(policy);
  EXPECT_EQ(policy->find_by_id(1)->name, "heir");
  EXPECT_EQ(loader.last_bodies_parsed(), 1u);
}

TEST(SliceBodyLoads, ANewMainTextChecksEverySliceAgain) {
  SliceBodyLoader loader;
  auto bodies = fleet(3);
  bodies[2] = body("s3", 3, 2003, "rate = \"50mbit\"\n");
  ASSERT_OK(loader.load(kMain, "p.toml", bodies));
  EXPECT_ERR(loader.load(netd_table("uplink_rate = \"10mbit\""), "p.toml", bodies), EINVAL,
             "^etcd:/netd/slices/s3:3: slice\\[s3\\]\\.rate: 50mbit is above \\[netd\\] uplink_rate 10mbit");
  auto policy = loader.load(netd_table("uplink_rate = \"100mbit\""), "p.toml", bodies);
  ASSERT_OK(policy);
  EXPECT_EQ(loader.last_bodies_parsed(), 3u);
  EXPECT_EQ(policy->slices.size(), 3u);  // ops went with the old main text
}

TEST(SliceBodyLoads, ARenamedKeyIsAnotherSlice) {
  SliceBodyLoader loader;
  std::vector<SliceBody> bodies = {body("a", 1, 2001)};
  ASSERT_OK(loader.load(kMain, "p.toml", bodies));
  // The same text under another key (source and name): parsed as that one.
  bodies[0] = {"etcd:/netd/slices/b", "b", bodies[0].text};
  auto policy = loader.load(kMain, "p.toml", bodies);
  ASSERT_OK(policy);
  EXPECT_EQ(policy->slices.back().name, "b");
  EXPECT_EQ(loader.last_bodies_parsed(), 1u);
}

}  // namespace
}  // namespace netd::policy
