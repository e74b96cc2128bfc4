// Download (ingress) shaping under netd: each uplink's IFB (netdi<ifindex>) with the ingress
// HTB tree, bfifo leaves and the redirect at the uplink's tcx ingress, read with ip, tc and
// bpftool; iperf3 -R goodput of alice and bob alone and at once, at 10/100/1000 Mbit, with
// carol (no slice) flooding beside them; uploads and downloads shaped independently; a slice
// that cannot move its downloads into another class; self-service; restart, SIGKILL, reloads,
// uplinks that come and go, an IFB deleted under netd, and --teardown.
#include <signal.h>
#include <unistd.h>

#include "tests/fixtures/eventually.h"
#include "tests/integration/common/invariants.h"
#include "tests/integration/shaping/shaping_fixture.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;

// iperf3 -R: the peer's server sends, the slice receives. The sender keeps this kernel's
// default congestion control (bbr): iperf3 sets -C on the client's socket too, and a slice may
// not pick cubic here (net.ipv4.tcp_allowed_congestion_control is "reno bbr").
const std::vector<std::string> kDownload = {"-R"};

class ShapeIngressTest : public ShapingFixture {
 protected:
  // alice: downloads 20 Mbit, uploads unshaped (so her ACKs never wait behind an upload
  // class); bob: uploads 30 Mbit, downloads 50 Mbit; carol: no slice.
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_netd = "uplink_rate_in = \"2gbit\"\n";
    o.extra_alice = "rate_in = \"20mbit\"\n";
    o.extra_bob = "rate = \"30mbit\"\nrate_in = \"50mbit\"\n";
    return o;
  }

  std::string ifb() const { return "netdi" + std::to_string(host_ifindex("uplink0")); }
  // iperf3 -R: the peer sends, the uid receives.
  double download_of(uid_t uid, int seconds = 3) { return goodput_of(uid, seconds, kDownload); }
  // The bfifo leaves of a device: parent classid → byte limit.
  std::map<std::string, uint64_t> bfifo_leaves(const std::string& dev) const {
    std::map<std::string, uint64_t> out;
    auto all = json_of(bed_->root({"tc", "-j", "qdisc", "show", "dev", dev}).out);
    if (!all.is_array()) return out;
    for (const auto& q : all)
      if (q.value("kind", "") == "bfifo") out[q.value("parent", "")] = q["options"].value("limit", uint64_t{0});
    return out;
  }
  nlohmann::json link_details(const std::string& dev) const {
    auto links = json_of(bed_->root({"ip", "-j", "-d", "link", "show", "dev", dev}).out);
    return links.is_array() && !links.empty() ? links[0] : nlohmann::json();
  }
  bool device_exists(const std::string& dev) const { return !link_details(dev).is_null(); }
  std::string policy_with(const std::string& alice, const std::string& bob) const {
    TestbedOptions o = testbed_options();
    o.extra_alice = alice;
    o.extra_bob = bob;
    return bed_->policy_text(o);
  }
};

TEST_F(ShapeIngressTest, UplinkGetsAnIfbWithTheTreeLeavesRedirectAndMap) {
  const std::string dev = ifb();
  auto link = link_details(dev);
  ASSERT_FALSE(link.is_null()) << bed_->root({"ip", "link"}).out;
  EXPECT_EQ(link["linkinfo"].value("info_kind", ""), "ifb");
  EXPECT_EQ(link.value("ifalias", ""), "netd ingress of uplink0");
  EXPECT_EQ(link.value("txqlen", 0), 1000);
  EXPECT_EQ(link.value("inet6_addr_gen_mode", ""), "none");
  EXPECT_THAT(link["flags"].dump(), HasSubstr("\"UP\""));

  auto classes = tc_classes(dev);
  ASSERT_EQ(classes.size(), 4u) << bed_->root({"tc", "class", "show", "dev", dev}).out;
  EXPECT_EQ(classes["4e44:ffff"].rate, 2'000'000'000u);
  EXPECT_EQ(classes["4e44:fffe"].ceil, 2'000'000'000u);
  EXPECT_EQ(classes["4e44:7"].rate, 20'000'000u);
  EXPECT_EQ(classes["4e44:8"].rate, 50'000'000u);
  auto leaves = bfifo_leaves(dev);
  EXPECT_EQ(leaves.count("4e44:7"), 1u) << bed_->root({"tc", "qdisc", "show", "dev", dev}).out;
  EXPECT_EQ(leaves.count("4e44:8"), 1u);
  EXPECT_EQ(leaves.count("4e44:fffe"), 1u);
  EXPECT_GE(leaves["4e44:7"], 128u * 1024) << "a few 64 KB GRO packets fit";
  EXPECT_EQ(classifier_map("classes_in"),
            (std::map<uint32_t, uint32_t>{{0, 0x4e44fffe}, {kAliceMark, 0x4e440007}, {kBobMark, 0x4e440008}}));
  EXPECT_EQ(tcx_programs("uplink0", kTcxIngress), 1u);
  // The upload tree is as before: bob alone has an upload class.
  EXPECT_EQ(tc_classes().count("4e44:8"), 1u);
  EXPECT_EQ(tc_classes().count("4e44:7"), 0u);
  // uplink1 is no uplink of this policy.
  EXPECT_EQ(tcx_programs("uplink1", kTcxIngress), 0u);
  EXPECT_FALSE(device_exists("netdi" + std::to_string(host_ifindex("uplink1"))));
}

// alice 20 Mbit and bob 50 Mbit downloads, alone and at once, each within ±3 %; carol, in no
// slice, downloads unshaped.
TEST_F(ShapeIngressTest, ThroughputOfDownloadsAloneAndAtOnce) {
  start_sinks();
  // 8 s runs: at 20 Mbit a 4 s window read up to 1.032 of the rate once in CI (the GRO
  // aggregates HTB releases whole and the sender's bbr drains its queue now and then; see
  // the 10 Mbit point below), while the class itself keeps the rate.
  expect_near_rate(download_of(kAlice, 8), 20e6, 0.03, "alice alone");
  expect_near_rate(download_of(kBob, 4), 50e6, 0.03, "bob alone");
  auto alice = bed_->spawn_as(kAlice, iperf_args(5201, 8, kDownload));
  auto bob = bed_->spawn_as(kBob, iperf_args(5202, 8, kDownload));
  ASSERT_OK(alice);
  ASSERT_OK(bob);
  expect_near_rate(goodput(alice->wait()), 20e6, 0.03, "alice beside bob");
  expect_near_rate(goodput(bob->wait()), 50e6, 0.03, "bob beside alice");
  EXPECT_GT(class_bytes("4e44:7", ifb()), 20e6 / 8 * 6);
  EXPECT_GT(download_of(kCarol), 250e6) << "carol is in no slice: her downloads are not held to anyone's rate";
}

// The issue's three rates, one slice: 10, 100 and 1000 Mbit, each within ±3 %.
TEST_F(ShapeIngressTest, ThroughputAtTenHundredAndThousandMbit) {
  start_sinks();
  // At 10 Mbit one GRO aggregate (up to 64 KB) is 50 ms of the class's time, HTB lets a whole
  // one through at once, and the sender's bbr drains its queue for 200 ms every 10 s: over 4 s
  // iperf3 read 0.92-1.04 of the rate, over 12 s 0.98-1.02 (the class's own byte count was
  // exact). So the 10 Mbit point runs 12 s.
  for (auto [rate, bps, seconds] : {std::tuple{"10mbit", 10e6, 12}, {"100mbit", 100e6, 4}, {"1gbit", 1e9, 4}}) {
    SCOPED_TRACE(rate);
    reload(policy_with(std::string("rate_in = \"") + rate + "\"\n", ""));
    ASSERT_EQ(tc_classes(ifb())["4e44:7"].rate, static_cast<uint64_t>(bps));
    expect_near_rate(download_of(kAlice, seconds), bps, 0.03, rate);
  }
}

// carol floods UDP at whatever the path takes while alice downloads: alice keeps her rate.
TEST_F(ShapeIngressTest, ThroughputOfASliceHoldsWhileCarolFloods) {
  start_sinks();
  auto flood = bed_->spawn_as(kCarol, iperf_args(5202, 6, {"-R", "-u", "-b", "0", "-l", "1400"}));
  ASSERT_OK(flood);
  // Her flood is under way before alice starts: the default class has been filling.
  ASSERT_TRUE(eventually([&] { return class_bytes("4e44:fffe", ifb()) > 10'000'000; })) << "no flood";
  const double alice = download_of(kAlice, 4);
  EXPECT_GE(alice / (20e6 * kGoodputPerRate), 0.97) << alice / 1e6 << " Mbit/s under carol's flood";
  auto carol = flood->wait();
  EXPECT_TRUE(carol.ok()) << carol.describe();
}

// Shaping one direction does not change the other: bob's upload is at its rate with and
// without his download class, and his download with and without his upload class. (At once,
// a download's ACKs wait in the slice's own upload class behind its upload data: that is the
// upload shaping's queue, not a leak between the directions.)
TEST_F(ShapeIngressTest, ThroughputOfEachDirectionIsIndependent) {
  start_sinks();
  const double up = goodput_of(kBob, 4);
  const double down = download_of(kBob, 4);
  expect_near_rate(up, 30e6, 0.03, "bob's upload, downloads shaped too");
  expect_near_rate(down, 50e6, 0.03, "bob's download, uploads shaped too");
  reload(policy_with("rate_in = \"20mbit\"\n", "rate = \"30mbit\"\n"));  // bob's downloads unshaped
  const double up_alone = goodput_of(kBob, 4);
  EXPECT_NEAR(up_alone / up, 1.0, 0.03) << up_alone / 1e6 << " against " << up / 1e6 << " Mbit/s";
  reload(policy_with("rate_in = \"20mbit\"\n", "rate_in = \"50mbit\"\n"));  // bob's uploads unshaped
  const double down_alone = download_of(kBob, 4);
  EXPECT_NEAR(down_alone / down, 1.0, 0.03) << down_alone / 1e6 << " against " << down / 1e6 << " Mbit/s";
  EXPECT_GT(class_bytes("4e44:8", ifb()), 0u) << "the download went through the IFB's class";
}

// A slice's own socket options do not move its downloads: SO_MARK and a priority naming
// another class are refused by the kernel, a priority it may set is overwritten, and the
// bytes land in alice's class, not bob's.
TEST_F(ShapeIngressTest, ASliceCannotMoveItsDownloadsIntoAnotherClass) {
  const char* sender = R"(
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.0.1.2", 5301)); s.listen(1); print("listening", flush=True)
c, _ = s.accept(); c.sendall(b"x" * 4000000); c.close()
)";
  auto server = bed_->spawn_in_peer({"/usr/bin/python3", "-c", sender});
  ASSERT_OK(server);
  ASSERT_TRUE(server->read_line(std::chrono::seconds(10))) << "sender did not start";
  const uint64_t bob_before = class_bytes("4e44:8", ifb());
  const uint64_t alice_before = class_bytes("4e44:7", ifb());
  const char* receiver = R"(
import socket
s = socket.socket()
for opt, value in ((socket.SO_MARK, 8 << 16), (socket.SO_PRIORITY, 0x4e440008)):
    try:
        s.setsockopt(socket.SOL_SOCKET, opt, value); print("set", opt)
    except PermissionError:
        print("refused", opt)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PRIORITY, 6)
s.connect(("10.0.1.2", 5301)); n = 0
while True:
    b = s.recv(65536)
    if not b: break
    n += len(b)
print("received", n)
)";
  auto r = bed_->as(kAlice, {"/usr/bin/python3", "-c", receiver});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.out, "refused 36\nrefused 12\nreceived 4000000\n");
  EXPECT_GE(class_bytes("4e44:7", ifb()) - alice_before, 4'000'000u);
  EXPECT_LT(class_bytes("4e44:8", ifb()) - bob_before, 40'000u) << "bob's class got alice's download";
  server->wait();
}

// alice lowers her downloads (goodput follows; her upload class is untouched), is refused a
// raise and a download limit for bob (who has none), and restores.
TEST_F(ShapeIngressTest, ThroughputFollowsDownloadSelfService) {
  start_sinks();
  auto set = bed_->sliceip(kAlice, {"shape", "set", "rate_in", "10mbit"});
  ASSERT_TRUE(set.ok()) << set.describe();
  EXPECT_EQ(tc_classes(ifb())["4e44:7"].rate, 10'000'000u);
  expect_near_rate(download_of(kAlice, 8), 10e6, 0.05, "alice lowered");  // 8 s: see ...TenHundredAndThousand
  auto show = bed_->sliceip(kAlice, {"shape", "show"});
  EXPECT_THAT(show.out, HasSubstr("shape alice unshaped (default class)\n"));
  EXPECT_THAT(show.out, HasSubstr("shape alice download rate 10mbit ceil 10mbit (lowered; policy rate 20mbit ceil "
                                  "20mbit)\n    dev uplink0 via " + ifb() + " class 4e44:7 rate 10mbit"));

  auto raise = bed_->sliceip(kAlice, {"shape", "set", "rate_in", "30mbit"});
  EXPECT_EQ(raise.exit_code, 2) << raise.describe();
  EXPECT_THAT(raise.err, HasSubstr("downloads"));
  EXPECT_THAT(raise.err, HasSubstr("above slice alice's policy rate"));
  auto uploads = bed_->sliceip(kAlice, {"shape", "set", "rate", "1mbit"});
  EXPECT_EQ(uploads.exit_code, 2) << "alice's uploads are not shaped";
  EXPECT_EQ(tc_classes(ifb())["4e44:7"].rate, 10'000'000u) << "refusals changed nothing";

  auto restore = bed_->sliceip(kAlice, {"-j", "shape", "set"});
  ASSERT_TRUE(restore.ok()) << restore.describe();
  EXPECT_EQ(json_of(restore.out), (nlohmann::json{{"current_in", {{"rate", 20'000'000}, {"ceil", 20'000'000}}}}));
  expect_near_rate(download_of(kAlice), 20e6, 0.05, "alice restored");
}

// SIGKILL: downloads stay shaped while netd is down; the restarted netd adopts the IFB, its
// classes (counters kept) and the redirect.
TEST_F(ShapeIngressTest, ThroughputStaysShapedWhileNetdIsDownAndARestartAdopts) {
  ASSERT_TRUE(bed_->sliceip(kAlice, {"shape", "set", "rate_in", "15mbit"}).ok());
  start_sinks();
  const int ifb_index = host_ifindex(ifb());
  bed_->kill_netd(SIGKILL);
  expect_near_rate(download_of(kAlice), 15e6, 0.05, "alice while netd is down");
  const uint64_t received = class_bytes("4e44:7", ifb());
  ASSERT_GT(received, 0u);
  ASSERT_OK(bed_->start_netd());
  EXPECT_EQ(host_ifindex(ifb()), ifb_index) << "the same IFB, adopted";
  EXPECT_EQ(tc_classes(ifb())["4e44:7"].rate, 15'000'000u) << "alice's own limit kept";
  EXPECT_GE(class_bytes("4e44:7", ifb()), received) << "the same class, adopted";
  EXPECT_EQ(tcx_programs("uplink0", kTcxIngress), 1u);
  EXPECT_EQ(json_of(bed_->sliceip(kAlice, {"-j", "shape", "show"}).out)["lowered_in"], true);
  EXPECT_THAT(settled_invariants(*bed_), ::testing::IsEmpty());
}

TEST_F(ShapeIngressTest, ReloadsChangeClassesInPlaceAndTheLastOneRemovesTheIfb) {
  const std::string dev = ifb();
  reload(policy_with("rate_in = \"30mbit\"\n", "rate = \"30mbit\"\n"));
  auto classes = tc_classes(dev);
  EXPECT_EQ(classes["4e44:7"].rate, 30'000'000u);
  EXPECT_EQ(classes.count("4e44:8"), 0u) << "bob's downloads are unshaped now";
  EXPECT_EQ(classifier_map("classes_in"), (std::map<uint32_t, uint32_t>{{0, 0x4e44fffe}, {kAliceMark, 0x4e440007}}));
  EXPECT_EQ(bfifo_leaves(dev).count("4e44:8"), 0u);

  reload(policy_with("", "rate = \"30mbit\"\n"));  // no slice shaped on the way in
  EXPECT_FALSE(device_exists(dev));
  EXPECT_EQ(tcx_programs("uplink0", kTcxIngress), 0u);
  EXPECT_EQ(tc_classes().count("4e44:8"), 1u) << "uploads still shaped";
  auto show = bed_->sliceip(kAlice, {"-j", "shape", "show"});
  EXPECT_EQ(json_of(show.out)["uplinks_in"], nlohmann::json::array());

  reload(bed_->policy_text(testbed_options()));  // and back
  EXPECT_TRUE(device_exists(dev));
  EXPECT_EQ(tcx_programs("uplink0", kTcxIngress), 1u);
  EXPECT_THAT(settled_invariants(*bed_), ::testing::IsEmpty());
}

TEST_F(ShapeIngressTest, UplinksThatComeAndGoGetAndLoseTheirIfb) {
  std::string policy = bed_->policy_text(testbed_options());
  replace_uplinks(policy, "uplinks = [\"uplink0\", \"late0\"]");
  reload(policy);
  ASSERT_TRUE(bed_->root({"ip", "link", "add", "late0", "type", "veth", "peer", "name", "late0p"}).ok());
  EXPECT_TRUE(eventually([&] { return tcx_programs("late0", kTcxIngress) == 1u; }));
  const std::string late_ifb = "netdi" + std::to_string(host_ifindex("late0"));
  EXPECT_TRUE(eventually([&] { return tc_classes(late_ifb).size() == 4u; })) << late_ifb;
  ASSERT_TRUE(bed_->root({"ip", "link", "del", "late0"}).ok());
  EXPECT_TRUE(eventually([&] { return !device_exists(late_ifb); })) << late_ifb << " outlived its uplink";
  EXPECT_TRUE(device_exists(ifb()));

  const std::string uplink0_ifb = ifb();
  policy = bed_->policy_text(testbed_options());
  replace_uplinks(policy, "uplinks = [\"uplink1\"]");
  reload(policy);
  EXPECT_FALSE(device_exists(uplink0_ifb)) << "uplink0 is no uplink now";
  EXPECT_EQ(tcx_programs("uplink0", kTcxIngress), 0u);
  EXPECT_EQ(tcx_programs("uplink1", kTcxIngress), 1u);
}

TEST_F(ShapeIngressTest, AnIfbDeletedUnderNetdIsMadeAgain) {
  const std::string dev = ifb();
  ASSERT_TRUE(bed_->root({"ip", "link", "del", dev}).ok());
  EXPECT_TRUE(eventually([&] { return tc_classes(dev).size() == 4u; })) << dev << " was not made again";
  EXPECT_EQ(tcx_programs("uplink0", kTcxIngress), 1u);
  start_sinks();
  EXPECT_GT(download_of(kAlice, 2), 0);
  EXPECT_GT(class_bytes("4e44:7", dev), 0u) << "the redirect points at the new IFB";
}

TEST_F(ShapeIngressTest, TeardownRemovesTheIfbsLinksAndPins) {
  const std::string dev = ifb();
  bed_->stop_netd();
  auto down = bed_->root({netd_binary(), "--policy", bed_->policy_path(), "--teardown"});
  ASSERT_TRUE(down.ok()) << down.describe();
  EXPECT_FALSE(device_exists(dev));
  EXPECT_EQ(tcx_programs("uplink0", kTcxIngress), 0u);
  EXPECT_NE(access((bed_->bpffs() + "/netd/shaping").c_str(), F_OK), 0);
}

}  // namespace
}  // namespace netd::testing
