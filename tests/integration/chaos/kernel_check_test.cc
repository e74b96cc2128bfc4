// [netd] verify_interval: between starts netd changes the kernel from its own record, so what
// someone else removes behind its back (a rule of its tree, a shaping class, a chain of its
// nft table, an entry of its BPF maps) would stay missing until a change touched it. The scheduled check reads the
// kernel and mends it, with no reload and no request; with the check off, nothing comes back.
#include <gmock/gmock.h>

#include "tests/fixtures/eventually.h"
#include "tests/integration/common/invariants.h"
#include "tests/integration/common/testbed_test.h"

namespace netd::testing {
namespace {

using ::testing::IsEmpty;

class KernelCheck : public TestbedTest {
 protected:
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_netd = "verify_interval = " + std::string(interval()) + "\n";
    o.extra_alice = "rate = \"10mbit\"\n";
    return o;
  }
  virtual const char* interval() const { return "1"; }

  // alice with a route (her rule in the tree) and a class on the uplink; all as it should be.
  void SetUp() override {
    TestbedTest::SetUp();
    if (!bed_) return;
    auto added = bed_->sliceip(kAlice, {"route", "add", "198.51.100.0/24", "via", "10.0.2.2", "dev", "uplink1"});
    ASSERT_TRUE(added.ok()) << added.err;
    ASSERT_THAT(settled_invariants(*bed_), IsEmpty());
  }

  // Removes a rule of netd's tree, alice's class and netd's chains' rules; says what it removed.
  std::vector<std::string> tamper() {
    std::vector<std::string> removed;
    nlohmann::json rules = bed_->slice_rules();
    EXPECT_FALSE(rules.empty());
    if (!rules.empty()) {
      const std::string pref = std::to_string(rules[0].value("priority", 0u));
      auto deleted = bed_->root({"ip", "rule", "del", "pref", pref});
      EXPECT_TRUE(deleted.ok()) << deleted.err;
      removed.push_back("rule " + pref);
    }
    auto deleted = bed_->root({"tc", "class", "del", "dev", "uplink0", "classid", "4e44:7"});
    EXPECT_TRUE(deleted.ok()) << deleted.err;
    removed.push_back("class 4e44:7");
    // The uplinks set (with no vif, monitor or raw grant the table has no chain to flush: each
    // exists only while it has work).
    auto flushed = bed_->root({"nft", "flush", "set", "inet", "netd", "uplinks"});
    EXPECT_TRUE(flushed.ok()) << flushed.err;
    removed.push_back("the elements of set inet netd uplinks");
    // alice's uid (1001, little-endian) out of the tagging map: her new sockets go untagged.
    auto untagged = bed_->root({"bpftool", "map", "delete", "pinned", bed_->bpffs() + "/netd/tagging/uid_marks", "key",
                                "0xe9", "0x03", "0", "0"});
    EXPECT_TRUE(untagged.ok()) << untagged.err;
    removed.push_back("uid 1001 from the tagging map");
    return removed;
  }
};

TEST_F(KernelCheck, WhatSomeoneElseRemovedComesBackAtTheNextCheck) {
  const size_t rules = bed_->netd_rules().size();
  std::vector<std::string> removed = tamper();
  SCOPED_TRACE(::testing::PrintToString(removed));
  // Each removal succeeded (it was there); the next check puts everything back.
  EXPECT_THAT(settled_invariants(*bed_), IsEmpty()) << bed_->netd_log();
  EXPECT_EQ(bed_->netd_rules().size(), rules);
  auto shown = bed_->root({"tc", "class", "show", "dev", "uplink0", "classid", "4e44:7"});
  EXPECT_THAT(shown.out, ::testing::HasSubstr("class htb 4e44:7")) << shown.err;
  EXPECT_THAT(bed_->netd_log(), ::testing::Not(::testing::HasSubstr("checking the kernel against the policy")));
}

class KernelCheckOff : public KernelCheck {
 protected:
  const char* interval() const override { return "0"; }
};

TEST_F(KernelCheckOff, NothingComesBackWithoutIt) {
  tamper();
  // A request of another kind is handled after any check would have run (none runs): the
  // class is still gone.
  ASSERT_TRUE(bed_->sliceip(kBob, {"route", "show"}).ok());
  auto shown = bed_->root({"tc", "-j", "class", "show", "dev", "uplink0"});
  ASSERT_TRUE(shown.ok()) << shown.err;
  EXPECT_THAT(shown.out, ::testing::Not(::testing::HasSubstr("4e44:7"))) << shown.out;
  EXPECT_THAT(settled_invariants(*bed_, {}, std::chrono::milliseconds(0)), ::testing::Not(IsEmpty()));
}

}  // namespace
}  // namespace netd::testing
