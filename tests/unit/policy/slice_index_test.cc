// Policy's lookups through its slice index: the same answers as a walk of `slices` in order,
// after copies, moves and growth, and after a slice is edited in place (SliceList::edit).
#include <gtest/gtest.h>

#include "netd/policy/policy.h"

namespace netd::policy {
namespace {

SliceSpec slice(const std::string& name, uint32_t id, std::vector<uid_t> uids, std::vector<gid_t> gids = {}) {
  SliceSpec s;
  s.name = name;
  s.id = id;
  s.uids = std::move(uids);
  s.gids = std::move(gids);
  return s;
}

Policy two() {
  Policy p;
  p.slices = {slice("alice", 7, {1001}, {2001}), slice("bob", 8, {1002}, {2002})};
  return p;
}

TEST(SliceIndex, FindsByIdNameUidAndGid) {
  Policy p = two();
  EXPECT_EQ(p.find_by_id(8)->name, "bob");
  EXPECT_EQ(p.find_by_name("alice")->id, 7u);
  EXPECT_EQ(p.find_by_id(9), nullptr);
  EXPECT_EQ(p.find_by_name("carol"), nullptr);
  EXPECT_EQ(p.find_member(1002, 0, {})->name, "bob");
  EXPECT_EQ(p.find_member(1003, 2001, {})->name, "alice") << "by the primary gid";
  EXPECT_EQ(p.find_member(1003, 0, {5, 2002})->name, "bob") << "by a supplementary gid";
  EXPECT_EQ(p.find_member(1001, 2002, {})->name, "alice") << "the uid before the gid";
  EXPECT_EQ(p.find_member(1003, 3, {4}), nullptr);
}

TEST(SliceIndex, CopiesMovesAndGrowthAnswerForThemselves) {
  Policy p = two();
  ASSERT_NE(p.find_by_id(7), nullptr);  // p's index made
  Policy copy = p;
  EXPECT_EQ(copy.find_by_id(7), &copy.slices[0]) << "the copy's own slice, not p's";
  copy.slices.push_back(slice("carol", 9, {1003}));
  EXPECT_EQ(copy.find_member(1003, 0, {})->name, "carol");
  EXPECT_EQ(p.find_by_id(9), nullptr);
  Policy moved = std::move(copy);
  EXPECT_EQ(moved.find_by_name("carol"), &moved.slices[2]);
}

TEST(SliceIndex, ASliceEditedInPlaceIsFoundByItsNewName) {
  Policy p = two();
  ASSERT_NE(p.find_by_name("bob"), nullptr);
  Policy sharing = p;  // shares bob's spec: the edit copies it, the copy keeps "bob"
  p.slices.edit(1).name = "dave";
  EXPECT_EQ(p.find_by_name("dave")->id, 8u);
  EXPECT_EQ(p.find_by_name("bob"), nullptr);
  EXPECT_EQ(sharing.find_by_name("bob")->id, 8u);
  EXPECT_EQ(sharing.find_by_name("dave"), nullptr);
}

TEST(SliceIndex, ARepeatedKeyFindsTheFirstAsAWalkWould) {
  Policy p = two();
  p.slices.push_back(slice("alice", 9, {1001}));  // what validation refuses; tests may build it
  EXPECT_EQ(p.find_by_name("alice")->id, 7u);
  EXPECT_EQ(p.find_member(1001, 0, {})->id, 7u);
}

// A version names one list's contents: a copy shares it until either changes; a list moved
// from is empty and says so.
TEST(SliceIndex, VersionsTellListsApart) {
  Policy p = two();
  const uint64_t v = p.slices.version();
  EXPECT_NE(v, 0u);
  Policy copy = p;
  EXPECT_EQ(copy.slices.version(), v);
  copy.slices.edit(0).max_routes = 3;
  EXPECT_NE(copy.slices.version(), v);
  EXPECT_EQ(p.slices.version(), v);
  Policy other = two();
  EXPECT_NE(other.slices.version(), v) << "the same specs made again are another list";
  Policy moved = std::move(p);
  EXPECT_EQ(moved.slices.version(), v);
  EXPECT_EQ(p.slices.version(), 0u);  // NOLINT(bugprone-use-after-move): what a move leaves
  EXPECT_TRUE(p.slices.empty());      // NOLINT(bugprone-use-after-move)
}

}  // namespace
}  // namespace netd::policy
