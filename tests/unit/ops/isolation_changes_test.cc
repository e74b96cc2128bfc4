// isolation_map_changes: applied to the maps of the previous policy, the changes give the maps
// of the next one, whatever the reload added, removed, changed or moved between slices.
#include "netd/ops/isolation_changes.h"

#include <gtest/gtest.h>

#include "netd/ops/isolation_plan.h"

namespace netd::ops {
namespace {

policy::SliceSpec slice(const std::string& name, uint32_t id, std::vector<uid_t> uids, std::vector<gid_t> gids = {},
                        std::vector<policy::PortRange> ports = {}) {
  policy::SliceSpec s;
  s.name = name;
  s.id = id;
  s.uids = std::move(uids);
  s.gids = std::move(gids);
  s.bind_ports = std::move(ports);
  return s;
}

std::map<uint32_t, uint32_t> applied(std::map<uint32_t, uint32_t> map, const kernel::U32MapChanges& changes) {
  for (const auto& [key, value] : changes.set) map[key] = value;
  for (uint32_t key : changes.unset) {
    EXPECT_EQ(changes.set.count(key), 0u) << key << " is both set and unset";
    map.erase(key);
  }
  return map;
}

void expect_changes_make_next(const policy::Policy& previous, const policy::Policy& next) {
  const IsolationMapChanges changes = isolation_map_changes(next, policy::diff_slices(previous, next));
  EXPECT_EQ(applied(uid_marks(previous), changes.uids), uid_marks(next));
  EXPECT_EQ(applied(gid_marks(previous), changes.gids), gid_marks(next));
  EXPECT_EQ(applied(reserved_ports(previous), changes.ports), reserved_ports(next));
}

class Changes : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_.slices = {slice("alice", 7, {1001}, {2001}, {{80, 80}, {5000, 5010}}), slice("bob", 8, {1002, 1004}),
                        slice("carol", 9, {1003}, {2003}, {{443, 443}})};
  }
  // The next policy shares the previous one's specs, as PolicyLoader hands them out.
  policy::Policy sharing() const {
    policy::Policy p;
    p.netd = previous_.netd;
    for (size_t i = 0; i < previous_.slices.size(); ++i) p.slices.push_back(previous_.slices.shared(i));
    return p;
  }
  policy::Policy previous_;
};

TEST_F(Changes, NothingChangedIsNoChange) {
  const policy::Policy next = sharing();
  const IsolationMapChanges changes = isolation_map_changes(next, policy::diff_slices(previous_, next));
  EXPECT_TRUE(changes.uids.empty());
  EXPECT_TRUE(changes.gids.empty());
  EXPECT_TRUE(changes.ports.empty());
}

TEST_F(Changes, AddedAndRemovedSlices) {
  policy::Policy next = sharing();
  next.slices.push_back(slice("dave", 10, {1005}, {2005}, {{8080, 8081}}));
  expect_changes_make_next(previous_, next);
  const IsolationMapChanges changes = isolation_map_changes(next, policy::diff_slices(previous_, next));
  EXPECT_EQ(changes.uids.set.size(), 1u);  // dave's alone
  EXPECT_EQ(changes.ports.set.size(), 2u);
  expect_changes_make_next(next, previous_);  // and removed again
}

TEST_F(Changes, KeysKeptMovedAndDroppedByChangedSlices) {
  policy::Policy next = sharing();
  // alice keeps 1001, drops gid 2001 and port 80, takes bob's 1004; bob loses it; carol's id moves (a new mark).
  next.slices.edit(0) = slice("alice", 7, {1001, 1004}, {}, {{5000, 5012}});
  next.slices.edit(1) = slice("bob", 8, {1002});
  next.slices.edit(2) = slice("carol", 11, {1003}, {2003}, {{443, 443}});
  expect_changes_make_next(previous_, next);
  expect_changes_make_next(next, previous_);
}

}  // namespace
}  // namespace netd::ops
