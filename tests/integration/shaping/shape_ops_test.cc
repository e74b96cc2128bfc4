// The life of per-slice shaping under netd: the uplink's HTB tree and the
// classifier map as the policy says (read with tc and bpftool), two slices' iperf3 flows
// shaped concurrently to their rates, a slice lowering / restoring its own rate and being
// refused a raise, own limits and class counters kept over a restart, reloads that change
// rates in place and remove classes, uplinks dropped from the policy, and --teardown.
#include <bpf/bpf.h>
#include <net/if.h>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>

#include "tests/fixtures/eventually.h"
#include "tests/fixtures/json.h"
#include "tests/integration/common/invariants.h"
#include "tests/integration/common/kernel_view.h"
#include "tests/integration/common/testbed_test.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;

constexpr double kGoodputPerRate = 1448.0 / 1514.0;  // TCP payload per HTB-counted byte, MTU 1500
constexpr uint32_t kAliceMark = 7u << 16, kBobMark = 8u << 16;
constexpr enum bpf_attach_type kTcxEgress = static_cast<enum bpf_attach_type>(47);

struct TcClass {
  std::string parent;
  uint64_t rate = 0;
  uint64_t ceil = 0;
};

class ShapeTest : public TestbedTest {
 protected:
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_alice = "rate = \"20mbit\"\n";
    o.extra_bob = "rate = \"50mbit\"\n";
    return o;
  }

  // iperf3 servers in the peer netns, one per concurrent client.
  void start_sinks() {
    for (const char* port : {"5201", "5202"}) {
      auto sink = bed_->spawn_in_peer({"iperf3", "-s", "-p", port, "--forceflush"});
      ASSERT_OK(sink);
      sinks_.push_back(std::move(sink).value());
      for (int i = 0; i < 5; ++i) {
        auto line = sinks_.back().read_line(std::chrono::seconds(5));
        ASSERT_TRUE(line) << "iperf3 -s did not start";
        if (line->find("listening") != std::string::npos) break;
      }
    }
  }

  std::vector<std::string> iperf_args(int port, int seconds) const {
    return {"iperf3", "-c", "10.0.1.2", "-p", std::to_string(port), "-t", std::to_string(seconds), "-O", "1", "-J"};
  }
  // Receiver-side goodput in bit/s of a finished iperf3 -J run (0 if it failed).
  static double goodput(const ProcessResult& r) {
    auto j = json_of(r.out);
    if (!r.ok() || !j.is_object()) {
      ADD_FAILURE() << "iperf3: " << r.describe();
      return 0;
    }
    return j["end"]["sum_received"]["bits_per_second"].get<double>();
  }
  double goodput_of(uid_t uid, int seconds = 3) { return goodput(bed_->as(uid, iperf_args(5201, seconds))); }
  static void expect_near_rate(double goodput, double rate_bps, double tolerance, const char* who) {
    double want = rate_bps * kGoodputPerRate;
    EXPECT_NEAR(goodput / want, 1.0, tolerance) << who << ": " << goodput / 1e6 << " Mbit/s, want " << want / 1e6;
  }

  // The HTB classes of a device, from tc (iproute2 6.1 prints classes as text even with -j).
  std::map<std::string, TcClass> tc_classes(const std::string& dev = "uplink0") const {
    std::map<std::string, TcClass> out;
    std::istringstream in(bed_->root({"tc", "class", "show", "dev", dev}).out);
    for (std::string line; std::getline(in, line);) {
      std::istringstream words(line);
      std::string w, kind, id;
      words >> w >> kind >> id;
      if (w != "class" || kind != "htb") continue;
      TcClass c;
      std::string key;
      while (words >> key) {
        std::string value;
        if (key == "root") c.parent = "root";
        if (key != "parent" && key != "rate" && key != "ceil") continue;
        words >> value;
        if (key == "parent") c.parent = value;
        if (key == "rate") c.rate = tc_rate_bps(value);
        if (key == "ceil") c.ceil = tc_rate_bps(value);
      }
      out[id] = c;
    }
    return out;
  }
  uint64_t class_bytes(const std::string& id, const std::string& dev = "uplink0") const {
    std::string text = bed_->root({"tc", "-s", "class", "show", "dev", dev, "classid", id}).out;
    std::smatch m;
    static const std::regex re(R"(Sent (\d+) bytes)");
    return std::regex_search(text, m, re) ? std::stoull(m[1]) : 0;
  }
  nlohmann::json root_qdisc(const std::string& dev = "uplink0") const {
    auto all = json_of(bed_->root({"tc", "-j", "qdisc", "show", "dev", dev}).out);
    if (all.is_array())
      for (const auto& q : all)
        if (q.value("root", false)) return q;
    return {};
  }
  // The classifier's map (mark → classid), from bpftool.
  std::map<uint32_t, uint32_t> classifier_map() const {
    std::map<uint32_t, uint32_t> out;
    auto dump = json_of(
        bed_->root({"bpftool", "-j", "map", "dump", "pinned", bed_->bpffs() + "/netd/shaping/classes"}).out);
    if (!dump.is_array()) return out;
    for (const auto& e : dump) {
      const auto& f = e.contains("formatted") ? e["formatted"] : e;
      if (f["key"].is_number() && f["value"].is_number()) out[f["key"].get<uint32_t>()] = f["value"].get<uint32_t>();
    }
    return out;
  }
  // Programs at tcx egress of the device in the host netns.
  uint32_t tcx_programs(const std::string& dev = "uplink0") const {
    auto in_host = bed_->host().enter();
    EXPECT_OK(in_host);
    int ifindex = static_cast<int>(if_nametoindex(dev.c_str()));
    __u32 ids[8] = {}, count = 8, flags = 0;
    if (ifindex <= 0 || bpf_prog_query(ifindex, kTcxEgress, 0, &flags, ids, &count) != 0) return 0;
    return count;
  }

  void reload(const std::string& policy) {
    ASSERT_OK(bed_->write_policy(policy));
    auto outcome = bed_->reload_netd();
    ASSERT_OK(outcome);
    ASSERT_THAT(*outcome, HasSubstr("netd: reloaded"));
  }
  static void replace_uplinks(std::string& policy, const std::string& line) {
    const std::string old = "uplinks = [\"uplink0\"]";
    policy.replace(policy.find(old), old.size(), line);
  }
  std::string policy_without_bob() const {
    std::string text = bed_->policy_text(testbed_options());
    return text.substr(0, text.find("\n[[slice]]\nname = \"bob\""));
  }

  std::vector<ChildProcess> sinks_;
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
  EXPECT_EQ(json_of(restore.out), (nlohmann::json{{"rate", 20'000'000}, {"ceil", 20'000'000}}));
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
                             R"({"rate": 1.5})", R"({"burst": 1000})"});
  ASSERT_TRUE(r.ok()) << r.describe();
  std::istringstream lines(r.out);
  std::vector<std::string> replies;
  for (std::string line; std::getline(lines, line);) replies.push_back(line);
  ASSERT_EQ(replies.size(), 4u) << r.out;
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
