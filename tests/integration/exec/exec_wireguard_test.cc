// Unmodified wireguard-go (Debian's 0.0.20220316) as a slice member under `sliceip exec`, on
// the slice's own tun: its TUNSETIFF asks for the packet information header (no IFF_NO_PI),
// which netd's Attach gives, and it sets the device's mtu with SIOCSIFMTU, which the supervisor
// asks of io.netd.Vifs.SetLink. Checked with an ICMP echo through the tunnel to a root
// wireguard-go in the peer netns, with bob refused alice's tun, and with a probe setting mtus
// of its own device and of a device that is not the slice's.
//
// wireguard-go keeps its control socket at /run/wireguard/<device>.sock (fixed in the binary);
// each side here runs in a mount namespace of its own with a tmpfs on /run, so the test leaves
// nothing on the host and parallel tests do not meet.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "tests/fixtures/json.h"
#include "tests/fixtures/test_macros.h"
#include "tests/integration/common/testbed_test.h"
#include "tests/integration/exec/exec_support.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr uid_t kAlice = 1001, kBob = 1002;
constexpr const char* kWireguardGo = "/usr/bin/wireguard-go";
constexpr const char* kWg = "/usr/bin/wg";
constexpr auto kEventTimeout = 20s;
constexpr const char* kPeerPort = "51820";

// Run as root: a private /run (tmpfs) with /run/wireguard for uid $1, then the rest of the
// words ("$2" ...) as they are.
constexpr const char* kPrivateRun =
    "mount -t tmpfs -o mode=0755 netd-wg /run && mkdir -m 0700 /run/wireguard && "
    "chown \"$1:$1\" /run/wireguard && shift && exec \"$@\"";

// Sets the mtu of device $1 to $2 with SIOCSIFMTU on a UDP socket, as wireguard-go does (with
// a third word "file": on an fd of /dev/null instead); prints the errno.
constexpr const char* kMtuProbe = R"PY(
import errno, fcntl, os, socket, struct, sys
SIOCSIFMTU = 0x8922
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
fd = os.open("/dev/null", os.O_RDWR) if sys.argv[3:] == ["file"] else s.fileno()
try:
    fcntl.ioctl(fd, SIOCSIFMTU, struct.pack("16si20x", sys.argv[1].encode(), int(sys.argv[2])))
    print(0, flush=True)
except OSError as e:
    print(e.errno, flush=True)
)PY";

class ExecWireguard : public TestbedTest {
 protected:
  void SetUp() override {
    if (access(kWireguardGo, X_OK) != 0 || access(kWg, X_OK) != 0)
      GTEST_SKIP() << "wireguard-go or wg is not installed: run scripts/install-deps";
    TestbedTest::SetUp();
  }

  void make_alices_tun() {
    auto add = bed_->vtuntap(kAlice, {"add", "tun", "--addr", "10.7.0.1/30", "--up", "--persist"});
    ASSERT_TRUE(add.ok()) << add.describe();
    ASSERT_EQ(add.out, "tun7-0\n");
  }

  // A key pair from wg: {private key file (in the testbed's dir, readable by alice), public key}.
  std::pair<std::string, std::string> key_pair(const std::string& name) {
    auto key = run_in(nullptr, {kWg, "genkey"});
    EXPECT_TRUE(key.ok()) << key.describe();
    auto pub = run_in(nullptr, {kWg, "pubkey"}, key.out);
    EXPECT_TRUE(pub.ok()) << pub.describe();
    const std::string path = bed_->dir() + "/" + name + ".key";
    EXPECT_TRUE(run_in(nullptr, {"sh", "-c", "umask 022 && printf '%s' \"$1\" > \"$2\"", "sh", key.out, path}).ok());
    std::string public_key = pub.out;
    while (!public_key.empty() && public_key.back() == '\n') public_key.pop_back();
    return {path, public_key};
  }

  // wireguard-go in the foreground, logging each step ("UAPI listener started" once its control
  // socket is up).
  static std::vector<std::string> wireguard_go(const std::string& dev) {
    return {"env", "WG_PROCESS_FOREGROUND=1", "LOG_LEVEL=verbose", kWireguardGo, "-f", dev};
  }

  // `wg ARGS` as uid (0: root) inside the mount namespace of process `pid` (for its /run).
  ProcessResult wg_in(pid_t pid, uid_t uid, std::vector<std::string> args, bool in_peer) {
    std::vector<std::string> argv = {"nsenter", "--mount=/proc/" + std::to_string(pid) + "/ns/mnt", "--"};
    if (uid != 0)
      argv.insert(argv.end(), {"setpriv", "--reuid=" + std::to_string(uid), "--regid=" + std::to_string(uid),
                               "--clear-groups", "--"});
    argv.push_back(kWg);
    argv.insert(argv.end(), args.begin(), args.end());
    return in_peer ? bed_->in_peer(argv) : bed_->root(argv);
  }

  uint64_t mtu_of(const std::string& dev) const {
    auto j = json_of(bed_->root({"ip", "-j", "link", "show", "dev", dev}).out);
    if (!j.is_array() || j.empty()) return 0;
    return j[0].value("mtu", uint64_t{0});
  }
};

TEST_F(ExecWireguard, WireguardGoOnOwnTunExchangesTraffic) {
  ASSERT_NO_FATAL_FAILURE(make_alices_tun());
  ASSERT_EQ(mtu_of("tun7-0"), 1500u);
  auto [peer_key, peer_public] = key_pair("peer");
  auto [alice_key, alice_public] = key_pair("alice");

  // The peer: a root wireguard-go making its own wg0 (10.7.0.2/30) in the peer netns.
  std::vector<std::string> peer_argv = {"unshare", "--mount", "--propagation", "private", "sh", "-c", kPrivateRun,
                                        "sh", "0"};
  for (auto& word : wireguard_go("wg0")) peer_argv.push_back(word);
  auto peer = bed_->spawn_in_peer(peer_argv);
  ASSERT_OK(peer);
  std::string peer_log;
  ASSERT_TRUE(read_through(*peer, peer_log, "UAPI listener started")) << peer_log << peer->wait(1s).describe();
  auto set_peer = wg_in(peer->pid(), 0,
                        {"set", "wg0", "private-key", peer_key, "listen-port", kPeerPort, "peer", alice_public,
                         "allowed-ips", "10.7.0.1/32"},
                        true);
  ASSERT_TRUE(set_peer.ok()) << set_peer.describe();
  for (const auto& step : std::vector<std::vector<std::string>>{{"ip", "addr", "add", "10.7.0.2/30", "dev", "wg0"},
                                                                {"ip", "link", "set", "wg0", "up"}}) {
    auto r = bed_->in_peer(step);
    ASSERT_TRUE(r.ok()) << r.describe();
  }

  // alice: `sliceip exec -- wireguard-go -f tun7-0` in the testbed's netns and cgroup, with a
  // private /run of her own. Without sliceip it cannot even open /dev/net/tun (0600).
  auto bare = bed_->as(kAlice, wireguard_go("tun7-0"));
  ASSERT_NE(bare.exit_code, 0) << bare.describe();
  std::vector<std::string> alice_argv = {"unshare", "--mount", "--propagation", "private", "sh", "-c", kPrivateRun,
                                         "sh", std::to_string(kAlice), "setpriv",
                                         "--reuid=" + std::to_string(kAlice), "--regid=" + std::to_string(kAlice),
                                         "--clear-groups", "--pdeathsig=KILL", "--", "env",
                                         "NETD_SOCKET=" + bed_->socket_path()};
  for (auto& word : exec_merged(sliceip_binary(), wireguard_go("tun7-0"))) alice_argv.push_back(word);
  auto alice = ChildProcess::spawn({std::nullopt, 0, &bed_->host(), bed_->cgroup(), alice_argv});
  ASSERT_OK(alice);
  std::string alice_log;
  ASSERT_TRUE(read_through(*alice, alice_log, "UAPI listener started")) << alice_log << alice->wait(1s).describe();
  EXPECT_THAT(alice_log, ::testing::Not(HasSubstr("sliceip: exec:"))) << alice_log;
  // Its SIOCSIFMTU went through netd (wireguard-go's default, 1420).
  EXPECT_EQ(mtu_of("tun7-0"), 1420u) << alice_log;
  auto set_alice = wg_in(alice->pid(), kAlice,
                         {"set", "tun7-0", "private-key", alice_key, "peer", peer_public, "endpoint",
                          std::string("10.0.1.2:") + kPeerPort, "allowed-ips", "10.7.0.2/32"},
                         false);
  ASSERT_TRUE(set_alice.ok()) << set_alice.describe();

  // 10.7.0.2 is only on the peer's wg0: the echo and its reply cross both tuns and the tunnel
  // (UDP between alice's wireguard-go on 10.0.1.1 and the peer's).
  auto ping = bed_->as(kAlice, {"ping", "-4", "-n", "-c", "1", "-W", "20", "10.7.0.2"});
  EXPECT_TRUE(ping.ok()) << ping.describe() << alice_log;
  auto shown = wg_in(peer->pid(), 0, {"show", "wg0", "endpoints"}, true);
  EXPECT_THAT(shown.out, HasSubstr("10.0.1.1:")) << shown.describe();
  ASSERT_OK(alice->kill(SIGTERM));
  alice->wait(kEventTimeout);
  ASSERT_OK(peer->kill(SIGTERM));
  peer->wait(kEventTimeout);
}

TEST_F(ExecWireguard, BobsWireguardGoRefusedAlicesTun) {
  ASSERT_NO_FATAL_FAILURE(make_alices_tun());
  std::vector<std::string> args = {"exec", "--"};
  for (auto& word : wireguard_go("tun7-0")) args.push_back(word);
  auto bob = bed_->sliceip(kBob, args);
  EXPECT_NE(bob.exit_code, 0) << bob.describe();
  EXPECT_THAT(bob.out + bob.err, HasSubstr("Failed to create TUN device")) << bob.describe();
  EXPECT_THAT(bob.err, HasSubstr("sliceip: exec: ioctl(TUNSETIFF, tun7-0): refused: tun7-0 is not a device of "
                                 "slice bob"))
      << bob.describe();
  EXPECT_EQ(mtu_of("tun7-0"), 1500u);
}

// SIOCSIFMTU under sliceip exec: the slice's own device through netd; a device that is not the
// slice's is the kernel's EPERM, with netd's reason, and is left as it was; what is not on a
// socket of netd's netns goes to the kernel.
TEST_F(ExecWireguard, MtuOfOwnDeviceOnly) {
  ASSERT_NO_FATAL_FAILURE(make_alices_tun());
  auto own = bed_->sliceip(kAlice, {"exec", "--", "python3", "-c", kMtuProbe, "tun7-0", "1400"});
  ASSERT_EQ(own.exit_code, 0) << own.describe();
  EXPECT_EQ(own.out, "0\n") << own.describe();
  EXPECT_EQ(own.err, "");
  EXPECT_EQ(mtu_of("tun7-0"), 1400u);

  const uint64_t uplink_mtu = mtu_of("uplink0");
  auto uplink = bed_->sliceip(kAlice, {"exec", "--", "python3", "-c", kMtuProbe, "uplink0", "1280"});
  ASSERT_EQ(uplink.exit_code, 0) << uplink.describe();
  EXPECT_EQ(uplink.out, std::to_string(EPERM) + "\n") << uplink.describe();
  EXPECT_THAT(uplink.err, HasSubstr("sliceip: exec: ioctl(SIOCSIFMTU, uplink0): refused:")) << uplink.describe();
  EXPECT_EQ(mtu_of("uplink0"), uplink_mtu);

  // bob's sliceip exec on alice's device: refused the same way.
  auto bob = bed_->sliceip(kBob, {"exec", "--", "python3", "-c", kMtuProbe, "tun7-0", "1300"});
  ASSERT_EQ(bob.exit_code, 0) << bob.describe();
  EXPECT_EQ(bob.out, std::to_string(EPERM) + "\n") << bob.describe();
  EXPECT_THAT(bob.err, HasSubstr("sliceip: exec: ioctl(SIOCSIFMTU, tun7-0): refused: tun7-0 is not a device of "
                                 "slice bob"))
      << bob.describe();
  EXPECT_EQ(mtu_of("tun7-0"), 1400u);

  // An fd that is no socket, and a socket of another netns (alice's own, made with a user
  // namespace), are not netd's to answer: the kernel's ENOTTY, and the kernel's yes for the lo
  // of a netns she owns; no line, and netd's devices as they were.
  auto file = bed_->sliceip(kAlice, {"exec", "--", "python3", "-c", kMtuProbe, "tun7-0", "1300", "file"});
  ASSERT_EQ(file.exit_code, 0) << file.describe();
  EXPECT_EQ(file.out, std::to_string(ENOTTY) + "\n") << file.describe();
  EXPECT_EQ(file.err, "");
  auto own_netns = bed_->sliceip(kAlice, {"exec", "--", "unshare", "-rn", "python3", "-c", kMtuProbe, "lo", "1300"});
  ASSERT_EQ(own_netns.exit_code, 0) << own_netns.describe();
  EXPECT_EQ(own_netns.out, "0\n") << own_netns.describe();
  EXPECT_EQ(own_netns.err, "");
  EXPECT_EQ(mtu_of("tun7-0"), 1400u);
  EXPECT_EQ(mtu_of("lo"), 65536u);

  // An mtu netd refuses (below IPv4's 68) is refused with its reason.
  auto small = bed_->sliceip(kAlice, {"exec", "--", "python3", "-c", kMtuProbe, "tun7-0", "60"});
  ASSERT_EQ(small.exit_code, 0) << small.describe();
  EXPECT_NE(small.out, "0\n") << small.describe();
  EXPECT_THAT(small.err, HasSubstr("sliceip: exec: ioctl(SIOCSIFMTU, tun7-0): refused:")) << small.describe();
  EXPECT_EQ(mtu_of("tun7-0"), 1400u);
}

}  // namespace
}  // namespace netd::testing
