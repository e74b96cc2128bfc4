// fleet_slices / fleet_policy: which keys under the prefix make this host's slices, and the
// policy they make with the local file, refusals naming the key and line.
#include "netd/fleet/fleet_policy.h"

#include "tests/fixtures/test_macros.h"

namespace netd::fleet {
namespace {

const std::string kMain = "[netd]\nuplinks = [\"eth0\"]\npolicy_source = \"etcd\"\n"
                          "etcd_endpoints = [\"http://127.0.0.1:2379\"]\n";
const std::string kAlice = "id = 7\nuids = [1001]\nnetblock = [\"10.7.0.0/24\"]\nrate = \"50mbit\"\n";
const std::string kBob = "id = 8\nuids = [1002]\nnetblock = [\"10.8.0.0/24\"]\n";

Result<policy::Policy> build(const KeyMap& keys, std::vector<std::string>* notes = nullptr) {
  return fleet_policy(kMain, "/etc/netd/policy.toml", keys, "/netd/", "h1", {}, notes);
}

std::vector<std::string> names(const policy::Policy& p) {
  std::vector<std::string> out;
  for (const auto& s : p.slices) out.push_back(s.name);
  return out;
}

TEST(KeyPlaces, WhatEachKeyIsToThisHost) {
  auto role = [](std::string_view key) { return place_of(key, "/netd/", "h1").role; };
  EXPECT_EQ(role("/netd/slices/alice"), KeyRole::kSlice);
  EXPECT_EQ(place_of("/netd/slices/alice", "/netd/", "h1").slice, "alice");
  EXPECT_EQ(role("/netd/hosts/h1/slices/alice"), KeyRole::kHostSlice);
  EXPECT_EQ(place_of("/netd/hosts/h1/slices/alice", "/netd/", "h1").slice, "alice");
  EXPECT_EQ(role("/netd/hosts/h2/slices/alice"), KeyRole::kOtherHost);
  EXPECT_EQ(role("/netd/hosts/h10/slices/alice"), KeyRole::kOtherHost);  // h1 is not a prefix match
  EXPECT_EQ(role("/netd/nodes/h1"), KeyRole::kNode);
  EXPECT_EQ(role("/netd/hosts/h1/limits"), KeyRole::kUnknown);
  EXPECT_EQ(role("/netd/hosts/h1"), KeyRole::kUnknown);
  EXPECT_EQ(role("/netd/version"), KeyRole::kUnknown);
  EXPECT_EQ(role("/other/slices/alice"), KeyRole::kOutside);
  EXPECT_EQ(role("/netdx/slices/alice"), KeyRole::kOutside);
}

TEST(FleetPolicy, SlicesFromTheKeysAfterTheLocalOnes) {
  auto p = build({{"/netd/slices/bob", kBob}, {"/netd/slices/alice", kAlice}});
  ASSERT_OK(p);
  EXPECT_EQ(names(*p), (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(p->find_by_name("alice")->source, "etcd:/netd/slices/alice:1");
  EXPECT_EQ(p->find_by_name("alice")->rate_bps, 50'000'000u);
  EXPECT_EQ(p->netd.policy_source, policy::PolicySource::kEtcd);
}

TEST(FleetPolicy, ThisHostsValueReplacesTheFleetsHere) {
  const KeyMap keys = {{"/netd/slices/alice", kAlice},
                       {"/netd/hosts/h1/slices/alice", "id = 7\nuids = [1001, 1005]\n"},
                       {"/netd/hosts/h2/slices/alice", "this is not even TOML"}};
  auto p = build(keys);
  ASSERT_OK(p);
  ASSERT_EQ(p->slices.size(), 1u);
  EXPECT_EQ(p->slices[0].uids, (std::vector<uid_t>{1001, 1005}));
  EXPECT_EQ(p->slices[0].source, "etcd:/netd/hosts/h1/slices/alice:1");
  EXPECT_EQ(p->slices[0].rate_bps, 0u);  // the host's value replaces the fleet's whole, no merge
  // Another host sees the fleet's value, and h2's own is refused on h2 only.
  auto other = fleet_policy(kMain, "p", keys, "/netd/", "h3");
  ASSERT_OK(other);
  EXPECT_EQ(other->slices[0].uids, (std::vector<uid_t>{1001}));
  EXPECT_ERR(fleet_policy(kMain, "p", keys, "/netd/", "h2"), EINVAL, "^etcd:/netd/hosts/h2/slices/alice:1:");
}

TEST(FleetPolicy, AnEmptyHostValueTakesTheSliceOffThisHost) {
  const KeyMap keys = {{"/netd/slices/alice", kAlice}, {"/netd/slices/bob", kBob}, {"/netd/hosts/h1/slices/bob", ""}};
  auto slices = fleet_slices(keys, "/netd/", "h1");
  ASSERT_OK(slices);
  EXPECT_EQ(slices->off_here, (std::vector<std::string>{"bob"}));
  auto p = build(keys);
  ASSERT_OK(p);
  EXPECT_EQ(names(*p), (std::vector<std::string>{"alice"}));
}

TEST(FleetPolicy, AHostOnlySlice) {
  auto p = build({{"/netd/hosts/h1/slices/carol", "id = 9\nuids = [1003]\n"}});
  ASSERT_OK(p);
  EXPECT_EQ(names(*p), (std::vector<std::string>{"carol"}));
}

TEST(FleetPolicy, NodesAndOtherHostsAreSkippedQuietlyUnknownKeysWithANote) {
  std::vector<std::string> notes;
  auto p = build({{"/netd/slices/alice", kAlice},
                  {"/netd/nodes/h1", "{\"node\":\"h1\"}"},
                  {"/netd/hosts/h2/slices/x", "junk"},
                  {"/netd/config/v2", "junk"}},
                 &notes);
  ASSERT_OK(p);
  EXPECT_EQ(names(*p), (std::vector<std::string>{"alice"}));
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_THAT(notes[0], ::testing::StartsWith("etcd:/netd/config/v2: ignored: not a key netd knows under /netd/"));
}

TEST(FleetPolicy, NoKeysIsTheLocalSlicesOnly) {
  auto p = build({});
  ASSERT_OK(p);
  EXPECT_TRUE(p->slices.empty());
}

TEST(FleetPolicy, ABadSliceNameInAKeyIsRefusedNamingIt) {
  EXPECT_ERR(build({{"/netd/slices/Alice", kAlice}}), EINVAL,
             "^etcd:/netd/slices/Alice: 'Alice' is not a slice name");
  EXPECT_ERR(build({{"/netd/slices/a/b", kAlice}}), EINVAL, "^etcd:/netd/slices/a/b: 'a/b' is not a slice name");
  EXPECT_ERR(build({{"/netd/hosts/h1/slices/", kAlice}}), EINVAL, "'' is not a slice name");
  // Another host's bad key is that host's business.
  EXPECT_OK(build({{"/netd/hosts/h2/slices/Alice", kAlice}}));
}

TEST(FleetPolicy, RefusalsNameTheKeyAndLine) {
  EXPECT_ERR(build({{"/netd/slices/alice", kAlice}, {"/netd/slices/bob", "id = 8\nuids = [1001]\n"}}), EINVAL,
             "^etcd:/netd/slices/bob:2: slice\\[bob\\]\\.uids: uid 1001 is already a member of slice alice "
             "\\(etcd:/netd/slices/alice:2\\)");
  EXPECT_ERR(build({{"/netd/slices/alice", kAlice + "[netd]\nbpffs = \"/tmp/x\"\n"}}), EINVAL,
             "^etcd:/netd/slices/alice:5: netd: \\[netd\\] never comes from etcd");
  EXPECT_ERR(build({{"/netd/slices/alice", "name = \"bob\"\n" + kAlice}}), EINVAL,
             "^etcd:/netd/slices/alice:1: slice\\.name: 'bob' is not the name its key gives it");
  EXPECT_ERR(build({{"/netd/slices/alice", "id = 7\nuids = [1001\n"}}), EINVAL,
             "^etcd:/netd/slices/alice:[23]:[0-9]+: TOML syntax error");
}

TEST(FleetPolicy, ALocalSliceCollidingWithAKeyNamesTheKey) {
  const std::string main = kMain + "[[slice]]\nname = \"ops\"\nid = 7\nuids = [1500]\n";
  EXPECT_ERR(fleet_policy(main, "/etc/netd/policy.toml", {{"/netd/slices/alice", kAlice}}, "/netd/", "h1"), EINVAL,
             "^etcd:/netd/slices/alice:1: slice\\[alice\\]\\.id: 7 is already the id of slice ops "
             "\\(/etc/netd/policy\\.toml:7\\)");
}

TEST(FleetPolicy, PolicyKeysAreTheSlicesAndThisHostsOverrides) {
  const KeyMap keys = {{"/netd/slices/alice", kAlice},
                       {"/netd/hosts/h1/slices/bob", ""},
                       {"/netd/hosts/h2/slices/bob", kBob},
                       {"/netd/nodes/h1", "{}"},
                       {"/netd/other", "x"}};
  const KeyMap kept = policy_keys(keys, "/netd/", "h1");
  EXPECT_EQ(kept, (KeyMap{{"/netd/slices/alice", kAlice}, {"/netd/hosts/h1/slices/bob", ""}}));
  auto all = fleet_slices(keys, "/netd/", "h1");
  auto some = fleet_slices(kept, "/netd/", "h1");
  ASSERT_OK(all);
  ASSERT_OK(some);
  ASSERT_EQ(all->slices.size(), some->slices.size());
  for (size_t i = 0; i < all->slices.size(); ++i) EXPECT_EQ(all->slices[i].text, some->slices[i].text);
}

}  // namespace
}  // namespace netd::fleet
