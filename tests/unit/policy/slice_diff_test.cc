// diff_slices: what a reload adds, removes and changes, matched by id, with shared specs taken
// as they are and specs read again compared field by field (their source line aside).
#include <gtest/gtest.h>

#include "netd/policy/slice_diff.h"

namespace netd::policy {
namespace {

SliceSpec slice(const std::string& name, uint32_t id, uid_t uid) {
  SliceSpec s;
  s.name = name;
  s.id = id;
  s.uids = {uid};
  s.source = "/etc/netd/policy.d/" + name + ".toml:1";
  return s;
}

Policy three() {
  Policy p;
  p.slices = {slice("alice", 7, 1001), slice("bob", 8, 1002), slice("carol", 9, 1003)};
  return p;
}

// A policy that shares `from`'s specs, in the order of `positions`.
Policy sharing(const Policy& from, std::vector<size_t> positions) {
  Policy p;
  p.netd = from.netd;
  for (size_t i : positions) p.slices.push_back(from.slices.shared(i));
  return p;
}

std::vector<std::string> names(const std::vector<const SliceSpec*>& specs) {
  std::vector<std::string> out;
  for (const SliceSpec* s : specs) out.push_back(s->name);
  return out;
}

TEST(SliceDiff, TheSameSpecsInAnyOrderAreNoChange) {
  Policy before = three();
  EXPECT_TRUE(diff_slices(before, sharing(before, {0, 1, 2})).empty());
  EXPECT_TRUE(diff_slices(before, sharing(before, {2, 0, 1})).empty());
}

TEST(SliceDiff, SpecsReadAgainCompareByWhatTheyGrantNotByTheirLine) {
  Policy before = three();
  Policy after = three();  // every spec a new object
  after.slices.edit(1).source = "/etc/netd/policy.d/bob.toml:3";
  EXPECT_TRUE(diff_slices(before, after).empty()) << "a comment above bob's table changes nothing";

  after.slices.edit(2).route_prefixes = {*Prefix::parse("10.9.0.0/16")};
  SliceDiff diff = diff_slices(before, after);
  ASSERT_EQ(diff.changed.size(), 1u);
  EXPECT_EQ(diff.changed[0].previous, &before.slices[2]);
  EXPECT_EQ(diff.changed[0].next, &after.slices[2]);
  EXPECT_TRUE(diff.added.empty());
  EXPECT_TRUE(diff.removed.empty());
}

TEST(SliceDiff, AddedAndRemovedByIdWhereverTheyStand) {
  Policy before = three();
  Policy after = sharing(before, {0, 2});
  after.slices.push_back(slice("dave", 10, 1004));
  SliceDiff diff = diff_slices(before, after);
  EXPECT_EQ(names(diff.added), std::vector<std::string>{"dave"});
  EXPECT_EQ(names(diff.removed), std::vector<std::string>{"bob"});
  EXPECT_TRUE(diff.changed.empty());
  EXPECT_EQ(diff.touched_ids(), (std::vector<uint32_t>{8, 10}));

  // At the front and at the back too (where the shared ends are skipped).
  Policy front = sharing(before, {1, 2});
  EXPECT_EQ(names(diff_slices(before, front).removed), std::vector<std::string>{"alice"});
  EXPECT_EQ(names(diff_slices(front, before).added), std::vector<std::string>{"alice"});
  Policy back = sharing(before, {0, 1});
  EXPECT_EQ(names(diff_slices(before, back).removed), std::vector<std::string>{"carol"});
  EXPECT_EQ(names(diff_slices(back, before).added), std::vector<std::string>{"carol"});
}

TEST(SliceDiff, ARenameKeepsTheIdAndANewIdIsAnotherSlice) {
  Policy before = three();
  Policy renamed = sharing(before, {0, 1, 2});
  renamed.slices.edit(0).name = "alicia";
  SliceDiff diff = diff_slices(before, renamed);
  ASSERT_EQ(diff.changed.size(), 1u);
  EXPECT_EQ(diff.changed[0].previous->name, "alice");
  EXPECT_EQ(diff.changed[0].next->name, "alicia");

  Policy moved = sharing(before, {0, 1, 2});
  moved.slices.edit(0).id = 20;
  diff = diff_slices(before, moved);
  EXPECT_EQ(names(diff.removed), std::vector<std::string>{"alice"});
  EXPECT_EQ(names(diff.added), std::vector<std::string>{"alice"});
  EXPECT_TRUE(diff.changed.empty());
}

TEST(SliceDiff, SettingsChangedIsSaidApartFromTheSlices) {
  Policy before = three();
  Policy after = sharing(before, {0, 1, 2});
  after.netd.uplinks = {"eth1"};
  SliceDiff diff = diff_slices(before, after);
  EXPECT_TRUE(diff.settings_changed);
  EXPECT_FALSE(diff.empty());
  EXPECT_TRUE(diff.changed.empty() && diff.added.empty() && diff.removed.empty());
}

TEST(SliceDiff, FromAndToNothing) {
  Policy before = three();
  Policy none;
  none.netd = before.netd;
  EXPECT_EQ(diff_slices(before, none).removed.size(), 3u);
  EXPECT_EQ(diff_slices(none, before).added.size(), 3u);
  EXPECT_TRUE(diff_slices(none, none).empty());
}

}  // namespace
}  // namespace netd::policy
