// SliceClaims: whether slices added to (and dropped from) an accepted policy conflict says what
// check_across_slices over the whole would, for every kind of key, at the cost of the change.
#include <gtest/gtest.h>

#include <memory>

#include "netd/policy/slice_claims.h"
#include "netd/policy/validate.h"
#include "tests/fixtures/test_macros.h"

namespace netd::policy {
namespace {

SliceSpec slice(const std::string& name, uint32_t id, uid_t uid, const std::string& netblock) {
  SliceSpec s;
  s.name = name;
  s.id = id;
  s.uids = {uid};
  auto p = Prefix::parse(netblock, netblock.find(':') == std::string::npos ? AF_INET : AF_INET6);
  EXPECT_OK(p);
  if (p.ok()) s.netblock = {*p};
  return s;
}

class Claims : public ::testing::Test {
 protected:
  void SetUp() override {
    for (uint32_t i = 0; i < 50; ++i) {
      SliceSpec s = slice("s" + std::to_string(i), 10 + i, 2000 + i, "10.100." + std::to_string(i) + ".0/24");
      s.gids = {5000 + i};
      s.bind_ports = {{static_cast<uint16_t>(6000 + 10 * i), static_cast<uint16_t>(6000 + 10 * i + 4)}};
      s.netblock.push_back(*Prefix::parse("fd00:" + std::to_string(i + 1) + "::/64", AF_INET6));
      held_.push_back(std::make_unique<SliceSpec>(std::move(s)));
      claims_.add(held_.back().get());
    }
  }
  // What check_across_slices says of the held slices less `dropped` plus `added`.
  bool full_check_refuses(const std::vector<const SliceSpec*>& dropped, const std::vector<const SliceSpec*>& added) {
    std::vector<SliceRef> refs;
    for (const auto& s : held_)
      if (std::find(dropped.begin(), dropped.end(), s.get()) == dropped.end()) refs.push_back({s.get(), nullptr});
    for (const SliceSpec* s : added) refs.push_back({s, nullptr});
    return !check_across_slices(refs).ok();
  }
  // Both ways agree, and say `refused`.
  void expect(bool refused, const std::vector<const SliceSpec*>& added, const std::vector<const SliceSpec*>& dropped = {}) {
    EXPECT_EQ(full_check_refuses(dropped, added), refused);
    EXPECT_EQ(claims_.conflicts(dropped, added), refused);
  }
  const SliceSpec* held(size_t i) const { return held_[i].get(); }

  std::vector<std::unique_ptr<SliceSpec>> held_;
  SliceClaims claims_;
};

TEST_F(Claims, ANewSliceOfItsOwnFits) {
  SliceSpec s = slice("new", 900, 9000, "10.200.0.0/24");
  s.bind_ports = {{7000, 7005}};
  expect(false, {&s});
  expect(false, {});
}

TEST_F(Claims, EachKeyHeldByAnotherSliceConflicts) {
  SliceSpec name = slice("s3", 900, 9000, "10.200.0.0/24");
  SliceSpec id = slice("new", 13, 9000, "10.200.0.0/24");
  SliceSpec uid = slice("new", 900, 2003, "10.200.0.0/24");
  SliceSpec gid = slice("new", 900, 9000, "10.200.0.0/24");
  gid.gids = {5003};
  SliceSpec wider = slice("new", 900, 9000, "10.100.0.0/16");     // holds s0..s49's blocks
  SliceSpec inside = slice("new", 900, 9000, "10.100.7.128/25");  // lies in s7's
  SliceSpec v6 = slice("new", 900, 9000, "fd00:9::/48");
  SliceSpec port = slice("new", 900, 9000, "10.200.0.0/24");
  port.bind_ports = {{6020, 6020}};
  for (const SliceSpec* s : {&name, &id, &uid, &gid, &wider, &inside, &v6, &port}) expect(true, {s});
}

TEST_F(Claims, KeysOfADroppedSliceAreFreeAgain) {
  // s3 read again with its keys (a changed file), or its keys given to a new slice.
  SliceSpec again = *held(3);
  again.max_routes = 5;
  expect(false, {&again}, {held(3)});
  SliceSpec taker = slice("s3", 13, 2003, "10.100.3.0/25");
  taker.gids = {5003};
  taker.bind_ports = {{6030, 6034}};
  expect(false, {&taker}, {held(3)});
  // Dropped is not enough when another held slice still has the key.
  expect(true, {&taker}, {held(4)});
  // Neighbours that were dropped are passed over, to the next held one.
  SliceSpec wide = slice("new", 900, 9000, "10.100.0.0/22");  // s0..s3's blocks
  expect(true, {&wide}, {held(0)});
  SliceSpec two = slice("new", 900, 9000, "10.100.0.0/23");  // s0's and s1's
  expect(false, {&two}, {held(0), held(1)});
}

TEST_F(Claims, AddedSlicesConflictAmongThemselves) {
  SliceSpec a = slice("a", 900, 9000, "10.200.0.0/24");
  SliceSpec b = slice("b", 901, 9001, "10.200.0.0/25");
  expect(true, {&a, &b});
  SliceSpec c = slice("c", 902, 9000, "10.201.0.0/24");
  expect(true, {&a, &c});
  SliceSpec twice = slice("d", 903, 9003, "10.202.0.0/24");
  twice.uids = {9003, 9003};
  expect(true, {&twice});
  SliceSpec ports = slice("e", 904, 9004, "10.203.0.0/24");
  ports.bind_ports = {{7000, 7010}, {7010, 7020}};
  expect(true, {&ports});
}

TEST_F(Claims, RemovedAndAddedAgainTheIndexFollows) {
  claims_.remove(held(5));
  SliceSpec s5 = slice("s5", 15, 2005, "10.100.5.0/24");
  EXPECT_FALSE(claims_.conflicts({}, std::vector<const SliceSpec*>{&s5}));
  claims_.add(&s5);
  SliceSpec again = slice("s5", 15, 2005, "10.100.5.0/24");
  EXPECT_TRUE(claims_.conflicts({}, std::vector<const SliceSpec*>{&again}));
  EXPECT_EQ(claims_.size(), 50u);
}

}  // namespace
}  // namespace netd::policy
