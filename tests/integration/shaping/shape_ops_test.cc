// The life of per-slice shaping under netd: the uplink's HTB tree and the
// classifier map as the policy says (read with tc and bpftool), two slices' iperf3 flows
// shaped concurrently to their rates, a slice lowering / restoring its own rate and being
// refused a raise, own limits and class counters kept over a restart, reloads that change
// rates in place and remove classes, no tree while no slice is shaped, uplinks dropped from
// the policy, and --teardown.
#include <signal.h>
#include <unistd.h>

#include "tests/fixtures/eventually.h"
#include "tests/integration/common/invariants.h"
#include "tests/integration/shaping/shaping_fixture.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;

class ShapeTest : public ShapingFixture {
 protected:
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_alice = "rate = \"20mbit\"\n";
    o.extra_bob = "rate = \"50mbit\"\n";
    return o;
  }
};

TEST_F(ShapeTest, UplinkGetsHtbTreeClassifierAndMapFromThePolicy) {
  auto root = root_qdisc();
  EXPECT_EQ(root.value("kind", ""), "htb") << root.dump();
  EXPECT_EQ(root.value("handle", ""), "4e44:");
  EXPECT_EQ(root["options"].value("default", ""), "0xfffe");
  auto classes = tc_classes();
  ASSERT_EQ(classes.size(), 4u) << bed_->root({"tc", "class", "show", "dev", "uplink0"}).out;
  EXPECT_EQ(classes["4e44:ffff"].parent, "root");
  EXPECT_EQ(classes["4e44:ffff"].rate, 10'000'000'000u);  // [netd] uplink_rate's default
  EXPECT_EQ(classes["4e44:fffe"].parent, "4e44:ffff");
  EXPECT_EQ(classes["4e44:fffe"].rate, 9'930'000'000u);   // what alice and bob are not guaranteed
  EXPECT_EQ(classes["4e44:fffe"].ceil, 10'000'000'000u);
  EXPECT_EQ(classes["4e44:7"].parent, "4e44:ffff");
  EXPECT_EQ(classes["4e44:7"].rate, 20'000'000u);
  EXPECT_EQ(classes["4e44:7"].ceil, 20'000'000u);
  EXPECT_EQ(classes["4e44:8"].rate, 50'000'000u);
  EXPECT_EQ(classifier_map(),
            (std::map<uint32_t, uint32_t>{{0, 0x4e44fffe}, {kAliceMark, 0x4e440007}, {kBobMark, 0x4e440008}}));
  EXPECT_EQ(tcx_programs(), 1u);
  // uplink1 is no uplink of this policy: untouched.
  EXPECT_EQ(tcx_programs("uplink1"), 0u);
  EXPECT_NE(root_qdisc("uplink1").value("kind", ""), "htb");
}

// alice 20 Mbit and bob 50 Mbit, iperf3 from each at once, each within ±5 %.
TEST_F(ShapeTest, ThroughputOfTwoSlicesShapedConcurrently) {
  start_sinks();
  auto alice = bed_->spawn_as(kAlice, iperf_args(5201, 4));
  auto bob = bed_->spawn_as(kBob, iperf_args(5202, 4));
  ASSERT_OK(alice);
  ASSERT_OK(bob);
  expect_near_rate(goodput(alice->wait()), 20e6, 0.05, "alice");
  expect_near_rate(goodput(bob->wait()), 50e6, 0.05, "bob");
  EXPECT_GT(class_bytes("4e44:7"), 20e6 / 8 * 3);
  EXPECT_GT(class_bytes("4e44:8"), 50e6 / 8 * 3);
}

// alice lowers her rate (her throughput follows at once), is refused a raise, restores.
TEST_F(ShapeTest, ThroughputFollowsSelfServiceLowerRefuseRestore) {
  start_sinks();
  auto set = bed_->sliceip(kAlice, {"shape", "set", "rate", "10mbit"});
  ASSERT_TRUE(set.ok()) << set.describe();
  EXPECT_EQ(set.out, "");
  EXPECT_EQ(tc_classes()["4e44:7"].rate, 10'000'000u);
  EXPECT_EQ(tc_classes()["4e44:7"].ceil, 10'000'000u);
  expect_near_rate(goodput_of(kAlice), 10e6, 0.05, "alice lowered");
  auto show = bed_->sliceip(kAlice, {"shape", "show"});
  EXPECT_THAT(show.out, HasSubstr("shape alice rate 10mbit ceil 10mbit (lowered; policy rate 20mbit ceil 20mbit)"));
  EXPECT_THAT(show.out, HasSubstr("dev uplink0 class 4e44:7 rate 10mbit ceil 10mbit sent "));

  auto raise = bed_->sliceip(kAlice, {"shape", "set", "rate", "200mbit"});
  EXPECT_EQ(raise.exit_code, 2) << raise.describe();
  EXPECT_THAT(raise.err, HasSubstr("rate 200mbit is above slice alice's policy rate 20mbit: a slice may lower its "
                                   "rates, never raise them"));
  auto raise_ceil = bed_->sliceip(kAlice, {"shape", "set", "rate", "10mbit", "ceil", "30mbit"});
  EXPECT_EQ(raise_ceil.exit_code, 2);
  EXPECT_THAT(raise_ceil.err, HasSubstr("ceil 30mbit is above slice alice's policy ceil 20mbit"));
  auto inverted = bed_->sliceip(kAlice, {"shape", "set", "rate", "10mbit", "ceil", "5mbit"});
  EXPECT_EQ(inverted.exit_code, 1);
  EXPECT_THAT(inverted.err, HasSubstr("rate 10mbit is above ceil 5mbit"));
  auto slow = bed_->sliceip(kAlice, {"shape", "set", "rate", "1kbit"});
  EXPECT_EQ(slow.exit_code, 1);
  EXPECT_THAT(slow.err, HasSubstr("below 8kbit"));
  auto word = bed_->sliceip(kAlice, {"shape", "set", "rate", "fast"});
  EXPECT_EQ(word.exit_code, 1);
  EXPECT_THAT(word.err, HasSubstr("'rate'"));
  // Every refusal left the class as it was, and bob's alone.
  EXPECT_EQ(tc_classes()["4e44:7"].rate, 10'000'000u);
  EXPECT_EQ(tc_classes()["4e44:8"].rate, 50'000'000u);

  auto restore = bed_->sliceip(kAlice, {"-j", "shape", "set"});
  ASSERT_TRUE(restore.ok()) << restore.describe();
  EXPECT_EQ(json_of(restore.out), (nlohmann::json{{"current", {{"rate", 20'000'000}, {"ceil", 20'000'000}}}}));
  EXPECT_EQ(tc_classes()["4e44:7"].rate, 20'000'000u);
  expect_near_rate(goodput_of(kAlice), 20e6, 0.05, "alice restored");
  auto shown = json_of(bed_->sliceip(kAlice, {"-j", "shape", "show"}).out);
  EXPECT_EQ(shown["lowered"], false);
  EXPECT_EQ(shown["current"], (nlohmann::json{{"rate", 20'000'000}, {"ceil", 20'000'000}}));
  ASSERT_EQ(shown["uplinks"].size(), 1u);
  EXPECT_EQ(shown["uplinks"][0]["classid"], "4e44:7");
  // A non-member is told so.
  auto carol = bed_->sliceip(kCarol, {"shape", "set", "rate", "1mbit"});
  EXPECT_EQ(carol.exit_code, 1);
  EXPECT_THAT(carol.err, HasSubstr("not a member"));
}

// Any Varlink client: malformed Set requests get InvalidArgument and change nothing.
TEST_F(ShapeTest, MalformedSetRequestsAreRefusedAndChangeNothing) {
  const char* client = R"(
import json, os, socket, sys
for params in sys.argv[1:]:
    c = socket.socket(socket.AF_UNIX); c.connect(os.environ["NETD_SOCKET"])
    c.sendall(json.dumps({"method": "io.netd.Shaping.Set", "parameters": json.loads(params)}).encode() + b"\0")
    reply = json.loads(c.recv(65536).rstrip(b"\0"))
    print(reply.get("error", "ok"), reply.get("parameters", {}).get("reason", ""))
)";
  auto r = bed_->as(kAlice, {"/usr/bin/python3", "-c", client, R"({"rate": "10mbit"})", R"({"rate": -1})",
                             R"({"rate": 1.5})", R"({"burst": 1000})", R"({"rate_in": -1})", R"({"ceil_in": "1g"})"});
  ASSERT_TRUE(r.ok()) << r.describe();
  std::istringstream lines(r.out);
  std::vector<std::string> replies;
  for (std::string line; std::getline(lines, line);) replies.push_back(line);
  ASSERT_EQ(replies.size(), 6u) << r.out;
  for (const auto& reply : replies) EXPECT_THAT(reply, HasSubstr("io.netd.InvalidArgument")) << reply;
  EXPECT_THAT(replies[3], HasSubstr("burst"));
  EXPECT_EQ(tc_classes()["4e44:7"].rate, 20'000'000u);
  // The rate alone: ceil = rate.
  auto ok = bed_->as(kAlice, {"/usr/bin/python3", "-c", client, R"({"rate": 10000000})"});
  EXPECT_EQ(ok.out, "ok \n");
  EXPECT_EQ(tc_classes()["4e44:7"].ceil, 10'000'000u);
}

TEST_F(ShapeTest, OwnLimitsAndClassCountersSurviveARestart) {
  ASSERT_TRUE(bed_->sliceip(kAlice, {"shape", "set", "rate", "5mbit", "ceil", "15mbit"}).ok());
  start_sinks();
  ASSERT_GT(goodput_of(kAlice, 2), 0);
  uint64_t sent = class_bytes("4e44:7");
  ASSERT_GT(sent, 0u);
  bed_->kill_netd(SIGKILL);
  // While netd is down the tree and the classifier keep shaping.
  EXPECT_EQ(tcx_programs(), 1u);
  EXPECT_EQ(tc_classes()["4e44:7"].ceil, 15'000'000u);
  ASSERT_OK(bed_->start_netd());
  auto classes = tc_classes();
  EXPECT_EQ(classes.size(), 4u);
  EXPECT_EQ(classes["4e44:7"].rate, 5'000'000u);
  EXPECT_EQ(classes["4e44:7"].ceil, 15'000'000u);
  EXPECT_GE(class_bytes("4e44:7"), sent);  // the same class object, adopted
  EXPECT_EQ(tcx_programs(), 1u);
  EXPECT_EQ(json_of(bed_->sliceip(kAlice, {"-j", "shape", "show"}).out)["lowered"], true);
  EXPECT_THAT(settled_invariants(*bed_), ::testing::IsEmpty());
}

TEST_F(ShapeTest, ReloadChangesRatesInPlaceAndRemovedSliceLosesClassAndMapEntry) {
  start_sinks();
  ASSERT_GT(goodput_of(kAlice, 2), 0);
  uint64_t sent = class_bytes("4e44:7");
  std::string policy = policy_without_bob();
  policy.replace(policy.find("rate = \"20mbit\""), 15, "rate = \"30mbit\"");
  reload(policy);
  auto classes = tc_classes();
  EXPECT_EQ(classes.count("4e44:8"), 0u);
  EXPECT_EQ(classes["4e44:7"].rate, 30'000'000u);
  EXPECT_GE(class_bytes("4e44:7"), sent);  // changed in place
  EXPECT_EQ(classifier_map(), (std::map<uint32_t, uint32_t>{{0, 0x4e44fffe}, {kAliceMark, 0x4e440007}}));
  expect_near_rate(goodput_of(kAlice), 30e6, 0.05, "alice after reload");
}

TEST_F(ShapeTest, SliceMadeUnshapedByReloadIsRefusedAndInTheDefaultClass) {
  ASSERT_TRUE(bed_->sliceip(kAlice, {"shape", "set", "rate", "10mbit"}).ok());
  TestbedOptions o = testbed_options();
  o.extra_bob.clear();
  o.extra_alice = "rate = \"8mbit\"\n";  // below what alice set: her own value is dropped
  reload(bed_->policy_text(o));
  EXPECT_EQ(tc_classes().count("4e44:8"), 0u);
  EXPECT_EQ(tc_classes()["4e44:7"].rate, 8'000'000u);
  EXPECT_EQ(classifier_map().count(kBobMark), 0u);
  auto set = bed_->sliceip(kBob, {"shape", "set", "rate", "1mbit"});
  EXPECT_EQ(set.exit_code, 2);
  EXPECT_THAT(set.err, HasSubstr("slice bob is not shaped by the policy"));
  auto show = bed_->sliceip(kBob, {"shape", "show"});
  EXPECT_THAT(show.out, HasSubstr("shape bob unshaped (default class)"));
  EXPECT_THAT(show.out, HasSubstr("class 4e44:fffe"));
  auto alice = json_of(bed_->sliceip(kAlice, {"-j", "shape", "show"}).out);
  EXPECT_EQ(alice["lowered"], false);
  EXPECT_EQ(alice["current"]["rate"], 8'000'000);
}

// An HTB root costs every packet of the uplink (issue 18: one queue and its lock): while no
// slice has a rate, the uplinks keep their own qdisc and no classifier runs on them, and
// shaping comes back with the first slice that has one.
TEST_F(ShapeTest, NoSliceShapedLeavesTheUplinkItsQdiscUntilOneIs) {
  TestbedOptions o = testbed_options();
  o.extra_alice.clear();
  o.extra_bob.clear();
  reload(bed_->policy_text(o));
  EXPECT_NE(root_qdisc().value("kind", ""), "htb") << root_qdisc().dump();
  EXPECT_EQ(tc_classes().size(), 0u);
  EXPECT_EQ(tcx_programs(), 0u);
  EXPECT_TRUE(classifier_map().empty());
  EXPECT_NE(access((bed_->bpffs() + "/netd/shaping/egress_" + std::to_string(host_ifindex("uplink0"))).c_str(), F_OK), 0);
  auto show = bed_->sliceip(kBob, {"-j", "shape", "show"});
  ASSERT_TRUE(show.ok()) << show.describe();
  EXPECT_TRUE(json_of(show.out)["uplinks"].empty()) << show.out;
  EXPECT_THAT(settled_invariants(*bed_), ::testing::IsEmpty());

  // A restart with nothing shaped makes none either.
  bed_->stop_netd();
  ASSERT_OK(bed_->start_netd());
  EXPECT_NE(root_qdisc().value("kind", ""), "htb");
  EXPECT_EQ(tcx_programs(), 0u);

  o.extra_bob = "rate = \"50mbit\"\n";
  reload(bed_->policy_text(o));
  EXPECT_EQ(root_qdisc().value("handle", ""), "4e44:");
  EXPECT_EQ(tc_classes().size(), 3u);  // top, default, bob
  EXPECT_EQ(tcx_programs(), 1u);
  EXPECT_EQ(classifier_map(), (std::map<uint32_t, uint32_t>{{0, 0x4e44fffe}, {kBobMark, 0x4e440008}}));
  EXPECT_THAT(settled_invariants(*bed_), ::testing::IsEmpty());
}

TEST_F(ShapeTest, UplinkDroppedFromPolicyGetsItsQdiscBackAndTheNewOneIsShaped) {
  std::string policy = bed_->policy_text(testbed_options());
  replace_uplinks(policy, "uplinks = [\"uplink1\"]");
  reload(policy);
  EXPECT_NE(root_qdisc().value("kind", ""), "htb");
  EXPECT_EQ(tcx_programs(), 0u);
  EXPECT_EQ(root_qdisc("uplink1").value("handle", ""), "4e44:");
  EXPECT_EQ(tc_classes("uplink1").size(), 4u);
  EXPECT_EQ(tcx_programs("uplink1"), 1u);
  EXPECT_THAT(settled_invariants(*bed_), ::testing::IsEmpty());
}

TEST_F(ShapeTest, UplinkThatAppearsLaterIsShaped) {
  std::string policy = bed_->policy_text(testbed_options());
  replace_uplinks(policy, "uplinks = [\"uplink0\", \"late0\"]");
  reload(policy);
  ASSERT_TRUE(bed_->root({"ip", "link", "add", "late0", "type", "veth", "peer", "name", "late0p"}).ok());
  EXPECT_TRUE(eventually([&] { return tcx_programs("late0") == 1u; })) << tcx_programs("late0");
  EXPECT_EQ(tc_classes("late0").size(), 4u);
}

TEST_F(ShapeTest, TeardownLeavesNoRootClassLinkOrPin) {
  bed_->stop_netd();
  auto down = bed_->root({netd_binary(), "--policy", bed_->policy_path(), "--teardown"});
  ASSERT_TRUE(down.ok()) << down.describe();
  EXPECT_NE(root_qdisc().value("kind", ""), "htb");
  EXPECT_EQ(tc_classes().size(), 0u);
  EXPECT_EQ(tcx_programs(), 0u);
  EXPECT_NE(access((bed_->bpffs() + "/netd/shaping").c_str(), F_OK), 0);
}

}  // namespace
}  // namespace netd::testing
