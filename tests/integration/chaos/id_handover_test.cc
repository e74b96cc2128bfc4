// What the chaos test found: netd.policy(5) promises that when a slice's id goes to a slice
// of another name, the raw sockets handed out to the old slice receive nothing more and the
// new slice starts with an empty table. A reload keeps that promise (apply_policy compares
// with the running policy). A restart does not: netd killed after the new policy file was
// written but before it applied it (or stopped, the file edited, started again) starts with
// no previous policy to compare with, and the new slice inherits the old one's mark epoch and
// table. Each case here is the reload's promise checked across a SIGKILL and a restart: netd
// now records which slice held each id (state_dir/slice-ids) and compares with it at start.
#include <gmock/gmock.h>
#include <signal.h>
#include <unistd.h>
#include <cstring>
#include <sys/stat.h>

#include "lib/core/state_file.h"
#include "tests/fixtures/files.h"
#include "tests/fixtures/json.h"
#include "tests/integration/chaos/chaos_agent.h"
#include "tests/integration/common/invariants.h"
#include "tests/integration/common/testbed_test.h"

namespace netd::testing {
namespace {

constexpr uid_t kDave = 1004;

class IdHandover : public TestbedTest {
 protected:
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_bob = "raw = [\"udp\"]\n";
    return o;
  }
  // bob (id 8) replaced by dave (uid 1004) with the same id and keys.
  std::string policy_with_dave() const {
    std::string text = bed_->policy_text(testbed_options());
    text.replace(text.find("name = \"bob\""), 12, "name = \"dave\"");
    text.replace(text.find("uids = [1002]"), 13, "uids = [1004]");
    return text;
  }
  // bob's raw socket, held by his agent, and one of his routes; then netd is killed, the
  // policy gives id 8 to dave, and netd starts again.
  void hand_over_while_netd_is_down(std::optional<Agent>& bob) {
    auto spawned = Agent::spawn(*bed_, kBob, "bob");
    ASSERT_OK(spawned);
    bob.emplace(std::move(spawned).value());
    auto raw = bob->call("io.netd.Sockets.Raw", {{"family", "inet"}, {"protocol", "udp"}}, true);
    ASSERT_TRUE(raw.contains("reply") && raw["reply"].contains("parameters")) << raw;
    ASSERT_TRUE(bed_->sliceip(kBob, {"route", "add", "198.51.100.0/24", "via", "10.0.2.2"}).ok());
    bed_->kill_netd(SIGKILL);
    ASSERT_OK(bed_->write_policy(policy_with_dave()));
    ASSERT_OK(bed_->start_netd());
  }
};

TEST_F(IdHandover, RawSocketsOfTheOldSliceReceiveNothingOfTheNewOne) {
  std::optional<Agent> bob;
  hand_over_while_netd_is_down(bob);
  if (HasFatalFailure()) return;
  auto dave = Agent::spawn(*bed_, kDave, "dave");
  ASSERT_OK(dave);
  bob->exchange({{"op", "raw-drain"}}, {"drained"});
  // dave's datagram to himself carries mark 8, as bob's did: once dave's listener has it,
  // bob's raw socket has had its copy queued if its filter still passes mark 8.
  auto sent = dave->exchange({{"op", "udp-self"}, {"port", 20000}, {"payload", "dave's"}}, {"udp-self"});
  ASSERT_EQ(sent.value("ok", false), true) << sent;
  auto seen = bob->exchange({{"op", "raw-seen"}}, {"raw-seen"});
  EXPECT_EQ(seen["payloads"], nlohmann::json::array()) << "bob's raw socket, handed out while id 8 was bob's, "
                                                          "receives dave's traffic after a restart";
}

TEST_F(IdHandover, TheNewSliceStartsWithAnEmptyTable) {
  std::optional<Agent> bob;
  hand_over_while_netd_is_down(bob);
  if (HasFatalFailure()) return;
  EXPECT_EQ(bed_->root({"ip", "route", "show", "table", "10008"}).out, "");
  auto dave = bed_->sliceip(kDave, {"-j", "slice", "show"});
  ASSERT_TRUE(dave.ok()) << dave.describe();
  EXPECT_EQ(json_of(dave.out)["routes"], 0);
  EXPECT_THAT(settled_invariants(*bed_), ::testing::IsEmpty());
}

// The record also holds each slice's raw rights: "udp" taken from bob while netd was down
// revokes the raw UDP socket he got before, as the reload would have. His own datagram (mark 8,
// which his filter would otherwise keep) no longer reaches it.
TEST_F(IdHandover, RawRightsTakenAwayWhileNetdIsDownRevokeTheSockets) {
  auto bob = Agent::spawn(*bed_, kBob, "bob");
  ASSERT_OK(bob);
  auto raw = bob->call("io.netd.Sockets.Raw", {{"family", "inet"}, {"protocol", "udp"}}, true);
  ASSERT_TRUE(raw.contains("reply") && raw["reply"].contains("parameters")) << raw;
  auto before = bob->exchange({{"op", "udp-self"}, {"port", 20001}, {"payload", "before"}}, {"udp-self"});
  ASSERT_EQ(before.value("ok", false), true) << before;
  auto seen_before = bob->exchange({{"op", "raw-seen"}}, {"raw-seen"});
  ASSERT_THAT(seen_before["payloads"].dump(), ::testing::HasSubstr("\"before\"")) << "the socket works before";

  bed_->kill_netd(SIGKILL);
  std::string text = bed_->policy_text(testbed_options());
  text.replace(text.find("raw = [\"udp\"]"), 13, "raw = [\"icmp\"]");
  ASSERT_OK(bed_->write_policy(text));
  ASSERT_OK(bed_->start_netd());
  bob->exchange({{"op", "raw-drain"}}, {"drained"});
  auto after = bob->exchange({{"op", "udp-self"}, {"port", 20002}, {"payload", "after"}}, {"udp-self"});
  ASSERT_EQ(after.value("ok", false), true) << after;
  auto seen = bob->exchange({{"op", "raw-seen"}}, {"raw-seen"});
  EXPECT_EQ(seen["payloads"], nlohmann::json::array()) << "bob's raw UDP socket outlived \"udp\" across a restart";
}

// The other side of the record: a reload that gave id 8 to dave recorded it, so a restart
// that follows keeps what dave made since (it is not a handover any more).
TEST_F(IdHandover, ARestartAfterTheReloadKeepsTheNewOwnersState) {
  ASSERT_OK(bed_->write_policy(policy_with_dave()));
  auto reloaded = bed_->reload_netd();
  ASSERT_OK(reloaded);
  ASSERT_THAT(*reloaded, ::testing::StartsWith("netd: reloaded ")) << *reloaded;
  ASSERT_TRUE(bed_->sliceip(kDave, {"route", "add", "198.51.100.0/24", "via", "10.0.2.2"}).ok());
  bed_->kill_netd(SIGKILL);
  ASSERT_OK(bed_->start_netd());
  EXPECT_THAT(bed_->root({"ip", "route", "show", "table", "10008"}).out, ::testing::HasSubstr("198.51.100.0/24"));
  auto dave = bed_->sliceip(kDave, {"-j", "slice", "show"});
  ASSERT_TRUE(dave.ok()) << dave.describe();
  EXPECT_EQ(json_of(dave.out)["routes"], 1);
  EXPECT_THAT(settled_invariants(*bed_), ::testing::IsEmpty());
}

// A record netd cannot trust stops the start with the file named, rather than guessing.
TEST_F(IdHandover, AnUnreadableRecordStopsTheStartAndNamesTheFile) {
  bed_->kill_netd(SIGKILL);
  ASSERT_OK(write_text_file(bed_->dir() + "/state/slice-ids", "8 bob\n8 dave\n"));
  auto started = bed_->start_netd();
  ASSERT_FALSE(started.ok());
  EXPECT_THAT(started.error().message, ::testing::HasSubstr("state/slice-ids: line 2"));
  EXPECT_THAT(started.error().message, ::testing::HasSubstr("the record of slice ids is unreadable"));
}

// A record netd cannot write (its directory not writable: netd holds no CAP_DAC_OVERRIDE) does
// not undo a reload that applied; netd says what the next restart loses. The record kept is
// the old one, whole.
TEST_F(IdHandover, AReloadWhoseRecordCannotBeWrittenIsAppliedAndSaysSo) {
  const std::string state = bed_->dir() + "/state";
  ASSERT_EQ(chmod(state.c_str(), 0500), 0) << std::strerror(errno);
  ASSERT_OK(bed_->write_policy(policy_with_dave()));
  auto reloaded = bed_->reload_netd();
  ASSERT_EQ(chmod(state.c_str(), 0700), 0) << std::strerror(errno);
  ASSERT_OK(reloaded);
  EXPECT_THAT(*reloaded, ::testing::StartsWith("netd: reloaded ")) << *reloaded;
  // The change of one owner goes to the record's journal, which cannot be made either.
  EXPECT_THAT(bed_->netd_log(), ::testing::HasSubstr("netd: recording slice ids: opening " + state +
                                                      "/slice-ids.journal to append to it: Permission denied (a "
                                                      "restart cannot tell"));
  auto record = read_text_file(state + "/slice-ids");
  ASSERT_OK(record);
  EXPECT_THAT(*record, ::testing::HasSubstr("\n8 bob raw=udp capture_all=false\n"));
  EXPECT_NE(access((state + "/slice-ids.new").c_str(), F_OK), 0);
  EXPECT_NE(access((state + "/slice-ids.journal").c_str(), F_OK), 0);

  // Unknown after that failure, the record is written whole by the next reload that changes
  // an owner, and a restart reads dave's id from it.
  ASSERT_OK(bed_->write_policy(policy_with_dave() + "\n[[slice]]\nname = \"erin\"\nid = 9\nuids = [1009]\n"));
  reloaded = bed_->reload_netd();
  ASSERT_OK(reloaded);
  ASSERT_THAT(*reloaded, ::testing::StartsWith("netd: reloaded ")) << *reloaded;
  record = read_text_file(state + "/slice-ids");
  ASSERT_OK(record);
  EXPECT_THAT(*record, ::testing::HasSubstr("\n8 dave raw=udp capture_all=false\n9 erin raw= capture_all=false\n"));
}

// A reload that changes one owner appends it to the record's journal; a restart reads the
// record with its journal (a line cut short by a crash mid-append left out) and folds it in.
TEST_F(IdHandover, TheJournalOfAReloadIsReadAtRestartAndFoldedIntoTheRecord) {
  const std::string state = bed_->dir() + "/state";
  ASSERT_OK(bed_->write_policy(policy_with_dave()));
  auto reloaded = bed_->reload_netd();
  ASSERT_OK(reloaded);
  ASSERT_THAT(*reloaded, ::testing::StartsWith("netd: reloaded ")) << *reloaded;
  auto journal = read_text_file(state + "/slice-ids.journal");
  ASSERT_OK(journal);
  EXPECT_EQ(*journal, "8 dave raw=udp capture_all=false\n");
  EXPECT_THAT(bed_->netd_log(), ::testing::Not(::testing::HasSubstr("recording slice ids")))
      << "the append and its sync pass netd's syscall filter";
  auto record = read_text_file(state + "/slice-ids");
  ASSERT_OK(record);
  EXPECT_THAT(*record, ::testing::HasSubstr("\n8 bob raw=udp capture_all=false\n")) << "the record is not rewritten";

  bed_->kill_netd(SIGKILL);
  ASSERT_OK(replace_state_file(state + "/slice-ids.journal", *journal + "-8\n9 cut"));  // a torn append
  ASSERT_OK(bed_->start_netd());
  record = read_text_file(state + "/slice-ids");
  ASSERT_OK(record);
  // "-8" then dave again from the policy: the record is written whole at start, journal folded in.
  EXPECT_THAT(*record, ::testing::HasSubstr("\n8 dave raw=udp capture_all=false\n"));
  EXPECT_THAT(*record, ::testing::Not(::testing::HasSubstr("cut")));
  EXPECT_NE(access((state + "/slice-ids.journal").c_str(), F_OK), 0);
  EXPECT_THAT(settled_invariants(*bed_), ::testing::IsEmpty());
}

// A journal line netd would not have written stops the start with the file and line named.
TEST_F(IdHandover, AnUnreadableJournalStopsTheStartAndNamesTheLine) {
  bed_->kill_netd(SIGKILL);
  ASSERT_OK(replace_state_file(bed_->dir() + "/state/slice-ids.journal", "8 dave raw=udp capture_all=false\n-x\n"));
  auto started = bed_->start_netd();
  ASSERT_FALSE(started.ok());
  EXPECT_THAT(started.error().message, ::testing::HasSubstr("state/slice-ids.journal: line 2 (\"-x\")"));
  EXPECT_THAT(started.error().message, ::testing::HasSubstr("the record of slice ids is unreadable"));
}

}  // namespace
}  // namespace netd::testing
