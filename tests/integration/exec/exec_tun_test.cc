// Unmodified openvpn as a slice member under `sliceip exec`: its open("/dev/net/tun") gets a
// placeholder and its TUNSETIFF the slice's own tap from io.netd.Vifs.Attach, put in the
// placeholder's place. Checked with real frames through the tunnel to a root openvpn in the
// peer netns, with bob refused alice's tap, and with a Python probe making the calls by hand
// (a new device from a template in the packet format asked, flags netd's devices cannot honour,
// other opens untouched).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/fixtures/eventually.h"
#include "tests/fixtures/json.h"
#include "tests/fixtures/test_macros.h"
#include "tests/integration/common/testbed_test.h"
#include "tests/integration/exec/exec_support.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr uid_t kAlice = 1001, kBob = 1002;
constexpr const char* kOpenvpn = "/usr/sbin/openvpn";
constexpr auto kEventTimeout = 20s;

// openvpn in point-to-point mode without crypto (it warns, and 2.7 will want TLS): the test is
// about the device, not the tunnel's keys. No --ifconfig: openvpn runs no `ip`.
std::vector<std::string> openvpn_args(const std::string& dev) {
  return {kOpenvpn, "--dev", dev, "--dev-type", "tap", "--disable-dco", "--verb", "3"};
}

// Opens /dev/net/tun and asks TUNSETIFF for a new tap from a template, once with IFF_NAPI
// (refused) and once with the packet information header and a virtio-net header (no IFF_NO_PI,
// IFF_VNET_HDR); prints what it got and holds the fd until stdin closes.
constexpr const char* kTunProbe = R"PY(
import fcntl, json, os, struct, sys
TUNSETIFF = 0x400454ca
IFF_TAP, IFF_NAPI, IFF_NO_PI, IFF_VNET_HDR = 0x0002, 0x0010, 0x1000, 0x4000
fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC | os.O_NONBLOCK)
out = {"ppid": os.getppid()}
try:
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", b"tap%d", IFF_TAP | IFF_NO_PI | IFF_NAPI))
    out["napi_errno"] = 0
except OSError as e:
    out["napi_errno"] = e.errno
ifr = fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", b"tap%d", IFF_TAP | IFF_VNET_HDR))
out["name"] = ifr[:16].rstrip(b"\0").decode()
out["fd"] = fd
out["cloexec"] = bool(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC)
out["nonblock"] = bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK)
out["link"] = os.readlink("/proc/self/fd/%d" % fd)
print(json.dumps(out), flush=True)
sys.stdin.readline()
)PY";

// Opens other things read-write, as any program does: the kernel's files, not netd's.
constexpr const char* kOtherOpens = R"PY(
import json, os, stat, tempfile
out = {"ppid": os.getppid()}
fd = os.open("/dev/null", os.O_RDWR)
st = os.fstat(fd)
out["null_rdev"] = [os.major(st.st_rdev), os.minor(st.st_rdev)]
f, path = tempfile.mkstemp()
os.close(f)
fd = os.open(path, os.O_RDWR)
out["written"] = os.write(fd, b"netd")
os.unlink(path)
out["tun_is_regular"] = stat.S_ISREG(os.fstat(os.open("/dev/net/tun", os.O_RDWR)).st_mode)
print(json.dumps(out), flush=True)
)PY";

class ExecTun : public TestbedTest {
 protected:
  void SetUp() override {
    if (access(kOpenvpn, X_OK) != 0) GTEST_SKIP() << "openvpn is not installed: run scripts/install-deps";
    TestbedTest::SetUp();
  }

  // The peer's end: a root openvpn on tap0 (10.7.0.2/30, made here), waiting for a peer on
  // UDP 1194. Returns once its socket is bound (it completes its start once a peer is heard).
  ChildProcess start_peer_openvpn() {
    for (const auto& step : std::vector<std::vector<std::string>>{
             {"ip", "tuntap", "add", "dev", "tap0", "mode", "tap"},
             {"ip", "addr", "add", "10.7.0.2/30", "dev", "tap0"},
             {"ip", "link", "set", "tap0", "up"}}) {
      auto r = bed_->in_peer(step);
      EXPECT_TRUE(r.ok()) << r.describe();
    }
    auto args = openvpn_args("tap0");
    args.insert(args.end(), {"--lport", "1194"});
    auto peer = bed_->spawn_in_peer(args);
    EXPECT_OK(peer);
    std::string log;
    EXPECT_TRUE(wait_for_line(*peer, "link local (bound)", &log)) << log;
    return std::move(peer).value();
  }

  // Reads the child's lines into `seen` until one contains `want`: true then, false at EOF.
  static bool wait_for_line(ChildProcess& child, const std::string& want, std::string* seen = nullptr) {
    std::string ignored;
    return read_through(child, seen != nullptr ? *seen : ignored, want, kEventTimeout);
  }

  // `sliceip exec -- openvpn ...` on `dev` as uid, stderr merged into stdout.
  Result<ChildProcess> start_openvpn(uid_t uid, const std::string& dev) {
    std::vector<std::string> argv = exec_merged(sliceip_binary(), openvpn_args(dev));
    argv.insert(argv.end(), {"--remote", "10.0.1.2", "--rport", "1194", "--nobind"});
    return bed_->spawn_as(uid, argv);
  }

  // Packets the kernel counted on a device in the host netns ("rx" or "tx").
  uint64_t packets(const std::string& dev, const char* direction) const {
    auto j = json_of(bed_->root({"ip", "-j", "-s", "link", "show", "dev", dev}).out);
    if (!j.is_array() || j.empty()) return 0;
    return j[0]["stats64"][direction].value("packets", uint64_t{0});
  }

  // netd calls made by process `pid` (the supervisor), from the audit log.
  std::vector<std::string> calls_by(int pid) const {
    std::vector<std::string> calls;
    std::string log = bed_->netd_log();
    size_t start = 0;
    while (start < log.size()) {
      size_t end = log.find('\n', start);
      if (end == std::string::npos) end = log.size();
      std::string line = log.substr(start, end - start);
      if (line.find(" pid=" + std::to_string(pid) + " ") != std::string::npos &&
          line.find(" method=") != std::string::npos)
        calls.push_back(line);
      start = end + 1;
    }
    return calls;
  }

  void make_alices_tap() {
    auto add = bed_->vtuntap(kAlice, {"add", "tap", "--addr", "10.7.0.1/30", "--up", "--persist"});
    ASSERT_TRUE(add.ok()) << add.describe();
    ASSERT_EQ(add.out, "tap7-0\n");
  }
};

TEST_F(ExecTun, OpenvpnTapOnOwnVifExchangesTraffic) {
  ASSERT_NO_FATAL_FAILURE(make_alices_tap());
  // /dev/net/tun is 0600: without sliceip, alice's openvpn cannot even open it.
  auto bare = bed_->as(kAlice, openvpn_args("tap7-0"));
  ASSERT_NE(bare.exit_code, 0) << bare.describe();
  ASSERT_THAT(bare.out, HasSubstr("Cannot open TUN/TAP dev /dev/net/tun")) << bare.describe();

  auto peer = start_peer_openvpn();
  auto alice = start_openvpn(kAlice, "tap7-0");
  ASSERT_OK(alice);
  std::string log;
  ASSERT_TRUE(wait_for_line(*alice, "Initialization Sequence Completed", &log))
      << log << alice->wait(1s).describe();
  EXPECT_THAT(log, HasSubstr("TUN/TAP device tap7-0 opened"));
  EXPECT_THAT(log, ::testing::Not(HasSubstr("sliceip: exec:"))) << log;

  // 10.7.0.2 is only on the peer's tap0: the echo and its reply cross both taps and the tunnel.
  const uint64_t tx_before = packets("tap7-0", "tx"), rx_before = packets("tap7-0", "rx");
  auto ping = bed_->as(kAlice, {"ping", "-4", "-n", "-c", "1", "-W", "20", "10.7.0.2"});
  EXPECT_TRUE(ping.ok()) << ping.describe() << log;
  // tx: frames the kernel handed to alice's openvpn; rx: frames it wrote back.
  EXPECT_GT(packets("tap7-0", "tx"), tx_before);
  EXPECT_GT(packets("tap7-0", "rx"), rx_before);
  // The peer heard alice's openvpn (from her uplink address).
  std::string peer_log;
  EXPECT_TRUE(wait_for_line(peer, "Initialization Sequence Completed", &peer_log)) << peer_log;
  EXPECT_THAT(peer_log, HasSubstr("Peer Connection Initiated with [AF_INET]10.0.1.1")) << peer_log;
  ASSERT_OK(alice->kill(SIGTERM));
  alice->wait(kEventTimeout);
  ASSERT_OK(peer.kill(SIGTERM));
  peer.wait(kEventTimeout);
}

TEST_F(ExecTun, BobsOpenvpnRefusedAlicesTap) {
  ASSERT_NO_FATAL_FAILURE(make_alices_tap());
  std::vector<std::string> args = {"exec", "--"};
  for (auto& word : openvpn_args("tap7-0")) args.push_back(word);
  args.insert(args.end(), {"--remote", "10.0.1.2", "--rport", "1194", "--nobind"});
  auto bob = bed_->sliceip(kBob, args);
  EXPECT_NE(bob.exit_code, 0) << bob.describe();
  EXPECT_THAT(bob.out, HasSubstr("Cannot ioctl TUNSETIFF tap7-0: Operation not permitted")) << bob.describe();
  EXPECT_THAT(bob.err, HasSubstr("sliceip: exec: ioctl(TUNSETIFF, tap7-0): refused: tap7-0 is not a device of "
                                 "slice bob"))
      << bob.describe();
  // alice's tap is as it was.
  auto link = json_of(bed_->root({"ip", "-j", "-d", "link", "show", "dev", "tap7-0"}).out);
  ASSERT_TRUE(link.is_array() && link.size() == 1) << link;
  EXPECT_EQ(link[0]["linkinfo"]["info_data"]["user"], kAlice) << link;
}

// netd attaches alice's tap, but openvpn asked for a tun: the kernel's EINVAL, with the reason.
TEST_F(ExecTun, WrongKindIsEinval) {
  ASSERT_NO_FATAL_FAILURE(make_alices_tap());
  auto r = bed_->sliceip(kAlice, {"exec", "--", kOpenvpn, "--dev", "tap7-0", "--dev-type", "tun", "--disable-dco",
                                  "--remote", "10.0.1.2", "--rport", "1194", "--nobind"});
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("Cannot ioctl TUNSETIFF tap7-0: Invalid argument")) << r.describe();
  EXPECT_THAT(r.err, HasSubstr("sliceip: exec: ioctl(TUNSETIFF, tap7-0): refused: tap7-0 is a tap device, not a "
                               "tun device"))
      << r.describe();
}

TEST_F(ExecTun, TemplateMakesNewDeviceGoneWithItsFd) {
  auto probe = bed_->spawn_as(kAlice, {"sh", "-c", "exec \"$0\" exec -- python3 -c \"$1\" 2>&1", sliceip_binary(),
                                       kTunProbe});
  ASSERT_OK(probe);
  std::string text;
  nlohmann::json j;
  while (auto line = probe->read_line(kEventTimeout)) {
    text += *line + "\n";
    if (!(j = json_of(*line)).is_object()) continue;
    break;
  }
  ASSERT_TRUE(j.is_object()) << text << probe->wait(1s).describe();
  EXPECT_EQ(j.value("napi_errno", -1), EINVAL) << j.dump();
  EXPECT_THAT(text, HasSubstr("sliceip: exec: ioctl(TUNSETIFF, new tap): refused: asks for IFF_NAPI"));
  EXPECT_EQ(j.value("name", ""), "tap7-0") << j.dump();
  EXPECT_EQ(j.value("link", ""), "/dev/net/tun") << j.dump();
  EXPECT_TRUE(j.value("cloexec", false)) << j.dump();
  EXPECT_TRUE(j.value("nonblock", false)) << j.dump();
  // netd made it for alice, not persistent: it goes with the fd.
  auto link = json_of(bed_->root({"ip", "-j", "-d", "link", "show", "dev", "tap7-0"}).out);
  ASSERT_TRUE(link.is_array() && link.size() == 1) << link;
  EXPECT_EQ(link[0]["linkinfo"]["info_data"]["user"], kAlice) << link;
  EXPECT_EQ(link[0]["linkinfo"]["info_data"]["persist"], false) << link;
  // In the format asked, as netlink reports it (TUNGETIFF cannot say: its 0x1000 is IFF_NO_PI and
  // also IFF_NOFILTER, set whenever the queue has no socket filter).
  EXPECT_EQ(link[0]["linkinfo"]["info_data"]["pi"], true) << link;
  EXPECT_EQ(link[0]["linkinfo"]["info_data"]["vnet_hdr"], true) << link;
  auto calls = calls_by(j.value("ppid", 0));
  ASSERT_EQ(calls.size(), 2u) << ::testing::PrintToString(calls);
  EXPECT_THAT(calls[1], HasSubstr("method=io.netd.Vifs.Add"));
  probe->close_stdin();
  EXPECT_EQ(probe->wait(kEventTimeout).exit_code, 0);
  EXPECT_TRUE(eventually([&] { return !bed_->root({"ip", "link", "show", "dev", "tap7-0"}).ok(); }, kEventTimeout));
}

TEST_F(ExecTun, OtherReadWriteOpensUntouched) {
  auto r = bed_->sliceip(kAlice, {"exec", "--", "python3", "-c", kOtherOpens});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto j = json_of(r.out);
  ASSERT_TRUE(j.is_object()) << r.describe();
  EXPECT_EQ(j["null_rdev"], nlohmann::json::array({1, 3})) << j.dump();
  EXPECT_EQ(j.value("written", 0), 4) << j.dump();
  // A /dev/net/tun fd that asked nothing yet is a placeholder, and netd has not been asked.
  EXPECT_TRUE(j.value("tun_is_regular", false)) << j.dump();
  EXPECT_EQ(r.err, "");
  int supervisor = j.value("ppid", 0);
  std::vector<std::string> calls;
  ASSERT_TRUE(eventually([&] { return !(calls = calls_by(supervisor)).empty(); })) << bed_->netd_log();
  ASSERT_EQ(calls.size(), 1u) << ::testing::PrintToString(calls);
  EXPECT_THAT(calls[0], HasSubstr("method=io.netd.Slices.Show"));
}

}  // namespace
}  // namespace netd::testing
