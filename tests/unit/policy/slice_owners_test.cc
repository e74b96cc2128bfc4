#include "netd/policy/slice_owners.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace netd::policy {
namespace {

using ::testing::HasSubstr;

Policy two_slices() {
  Policy p;
  SliceSpec alice;
  alice.name = "alice";
  alice.id = 7;
  alice.raw = {"icmp", "packet"};
  SliceSpec bob;
  bob.name = "bob";
  bob.id = 8;
  bob.capture_all = true;
  p.slices = {alice, bob};
  return p;
}

TEST(SliceOwners, RoundTripsThroughItsText) {
  SliceOwners owners = owners_of(two_slices());
  EXPECT_EQ(owners, (SliceOwners{{7, {"alice", true, {"icmp", "packet"}, false}}, {8, {"bob", true, {}, true}}}));
  std::string text = format_slice_owners(owners);
  EXPECT_THAT(text, HasSubstr("7 alice raw=icmp,packet capture_all=false\n8 bob raw= capture_all=true\n"));
  auto parsed = parse_slice_owners(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(*parsed, owners);
}

// A record written before netd recorded rights: the names still count, the rights are unknown
// (and then nothing counts as taken away), and it is written back as it was read.
TEST(SliceOwners, AnOlderRecordHasNamesWithoutRights) {
  auto parsed = parse_slice_owners("# older\n7 alice\n8 bob raw=udp capture_all=false\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(*parsed, (SliceOwners{{7, {"alice", false, {}, false}}, {8, {"bob", true, {"udp"}, false}}}));
  EXPECT_THAT(format_slice_owners(*parsed), HasSubstr("7 alice\n8 bob raw=udp capture_all=false\n"));
}

TEST(SliceOwners, AnEmptyPolicyIsAnEmptyRecord) {
  auto parsed = parse_slice_owners(format_slice_owners({}));
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->empty());
  EXPECT_TRUE(parse_slice_owners("")->empty());
}

struct Refused {
  const char* text;
  const char* why;
};

class SliceOwnersRefusal : public ::testing::TestWithParam<Refused> {};

TEST_P(SliceOwnersRefusal, NamesTheLineAndWhy) {
  auto parsed = parse_slice_owners(GetParam().text);
  ASSERT_FALSE(parsed.ok()) << GetParam().text;
  EXPECT_EQ(parsed.error().code, EINVAL);
  EXPECT_THAT(parsed.error().message, HasSubstr(GetParam().why));
}

INSTANTIATE_TEST_SUITE_P(
    Record, SliceOwnersRefusal,
    ::testing::Values(Refused{"7 alice", "line 1 is cut short"}, Refused{"# x\nalice\n", "line 2 (\"alice\"): not"},
                      Refused{"x alice\n", "not a positive number"}, Refused{"0 alice\n", "not a positive number"},
                      Refused{"7x alice\n", "not a positive number"},
                      Refused{"99999999999 alice\n", "not a positive number"},
                      Refused{"7 \n", "the name is empty"}, Refused{"7 al ice\n", "not \"id name raw="},
                      Refused{"7 alice raw=udp\n", "not \"id name raw="},
                      Refused{"7 alice rwa=udp capture_all=false\n", "the third field is not raw="},
                      Refused{"7 alice raw=udp,,tcp capture_all=false\n", "an empty raw kind"},
                      Refused{"7 alice raw=udp capture_all=yes\n", "the fourth field is not capture_all="},
                      Refused{"7 alice\n7 bob\n", "id 7 is listed twice"}));

TEST(SliceOwners, PolicyWithOwnersKeepsTheMarksOfTheBase) {
  Policy base = two_slices();
  base.netd.mark_mask = 0x00ff0000;
  base.slices.edit(1).name = "dave";  // id 8 handed over
  Policy before = policy_with_owners(base, {{7, {"alice", true, {"udp"}, false}},
                                            {8, {"bob", true, {}, true}},
                                            {9, {"carol", false, {}, false}}});
  ASSERT_EQ(before.slices.size(), 3u);
  ASSERT_NE(before.find_by_id(8), nullptr);
  EXPECT_EQ(before.find_by_id(8)->name, "bob");
  EXPECT_TRUE(before.find_by_id(8)->capture_all);
  EXPECT_EQ(before.find_by_id(7)->raw, std::vector<std::string>{"udp"});
  EXPECT_EQ(before.mark_of(*before.find_by_id(9)), 9u << 16);
  EXPECT_EQ(before.netd.mark_mask, base.netd.mark_mask);
}

// A reload's diff brings the owners of the previous policy to those of the next, and says
// whether the record changes: a slice's other keys are not in it.
TEST(SliceOwners, UpdatedFromWhatAReloadChanged) {
  const Policy before = two_slices();
  auto expect_update = [&](const Policy& next, bool changes) {
    SliceOwners owners = owners_of(before);
    EXPECT_EQ(update_owners(owners, diff_slices(before, next)), changes);
    EXPECT_EQ(owners, owners_of(next));
  };
  Policy same;
  for (size_t i = 0; i < before.slices.size(); ++i) same.slices.push_back(before.slices.shared(i));
  expect_update(same, false);
  Policy routes = same;
  routes.slices.edit(0).max_routes = 5;
  expect_update(routes, false);
  Policy rights = same;
  rights.slices.edit(0).raw = {"icmp"};
  expect_update(rights, true);
  Policy renamed = same;
  renamed.slices.edit(1).name = "carol";
  expect_update(renamed, true);
  Policy grown = same;
  SliceSpec dave;
  dave.name = "dave";
  dave.id = 9;
  grown.slices.push_back(dave);
  expect_update(grown, true);
  Policy shrunk;
  shrunk.slices.push_back(before.slices.shared(1));
  expect_update(shrunk, true);
}

// The journal: the lines of the ids a reload changed, as the record has them now or "-id" for
// an id gone; applied in order on the record, they give the record the reload left.
TEST(SliceOwnersJournal, ReplaysWhatReloadsChanged) {
  SliceOwners owners = owners_of(two_slices());
  SliceOwners after = owners;
  after.erase(8);
  after[9] = {"carol", true, {"udp"}, false};
  std::string journal = format_owner_changes(after, {8, 9});
  EXPECT_EQ(journal, "-8\n9 carol raw=udp capture_all=false\n");
  after[9].capture_all = true;
  journal += format_owner_changes(after, {9});
  SliceOwners replayed = owners;
  auto lines = apply_owner_changes(replayed, journal);
  ASSERT_TRUE(lines.ok()) << lines.error().message;
  EXPECT_EQ(*lines, 3u);
  EXPECT_EQ(replayed, after);
  // Applied again on the record it made (a crash between writing the record whole and
  // deleting the journal), it changes nothing.
  ASSERT_TRUE(apply_owner_changes(replayed, journal).ok());
  EXPECT_EQ(replayed, after);
}

// An append cut short by a crash leaves a last line without its newline: left out, so the
// record is what the reload before it left.
TEST(SliceOwnersJournal, ALastLineCutShortIsLeftOut) {
  SliceOwners owners = owners_of(two_slices());
  for (std::string torn : {"-", "-8", "9 carol raw=ud"}) {
    SliceOwners replayed = owners;
    auto lines = apply_owner_changes(replayed, "7 alice raw= capture_all=false\n" + torn);
    ASSERT_TRUE(lines.ok()) << torn << ": " << lines.error().message;
    EXPECT_EQ(*lines, 1u);
    EXPECT_EQ(replayed.at(7).raw, std::vector<std::string>{}) << torn;
    EXPECT_EQ(replayed.size(), 2u) << torn;
  }
}

TEST(SliceOwnersJournal, RefusesALineItWouldNotHaveWrittenNamingIt) {
  struct Case {
    const char* journal;
    const char* says;
  } cases[] = {
      {"-8\n-x\n", "line 2 (\"-x\"): not \"-id\" with a positive id"},
      {"-0\n", "line 1 (\"-0\"): not \"-id\" with a positive id"},
      {"-8 bob\n", "line 1 (\"-8 bob\"): not \"-id\" with a positive id"},
      {"\n", "line 1 (\"\"): not \"id name raw=... capture_all=...\""},
      {"9 carol raw=udp\n", "line 1 (\"9 carol raw=udp\"): not \"id name raw=... capture_all=...\""},
  };
  for (const auto& c : cases) {
    SliceOwners owners = owners_of(two_slices());
    auto lines = apply_owner_changes(owners, c.journal);
    ASSERT_FALSE(lines.ok()) << c.journal;
    EXPECT_EQ(lines.error().code, EINVAL);
    EXPECT_THAT(lines.error().message, HasSubstr(c.says));
  }
}

}  // namespace
}  // namespace netd::policy
