// What trapped /dev/net/tun opens and TUNSETIFF calls get (pure: no kernel, no netd).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/if_tun.h>

#include <string>

#include "tools/sliceip/exec/tun_answer.h"

namespace sliceip::exec {
namespace {

constexpr uint16_t kTapNoPi = IFF_TAP | IFF_NO_PI;

// ifr_name as the program leaves it: the name, NUL-padded to IFNAMSIZ (16) bytes.
std::string ifr_name(const std::string& name) {
  std::string bytes(16, '\0');
  bytes.replace(0, name.size(), name);
  return bytes;
}

TunAnswer ask(const std::string& name, uint16_t flags) {
  std::string bytes = ifr_name(name);
  return answer_tunsetiff({bytes, flags});
}

TEST(ExecTunAnswer, OpenFlagsTrappedOnlyForReadWrite) {
  EXPECT_TRUE(is_tun_open_flags(O_RDWR));                            // openvpn
  EXPECT_TRUE(is_tun_open_flags(O_RDWR | O_CLOEXEC));                // wireguard-go
  EXPECT_TRUE(is_tun_open_flags(O_RDWR | O_NONBLOCK | O_NOCTTY));
  EXPECT_FALSE(is_tun_open_flags(O_RDONLY));
  EXPECT_FALSE(is_tun_open_flags(O_WRONLY));
  EXPECT_FALSE(is_tun_open_flags(O_RDWR | O_CREAT));
  EXPECT_FALSE(is_tun_open_flags(O_RDWR | O_TRUNC));
  EXPECT_FALSE(is_tun_open_flags(O_PATH));
  EXPECT_FALSE(is_tun_open_flags(O_RDWR | O_DIRECTORY));
  EXPECT_FALSE(is_tun_open_flags(O_RDWR | O_TMPFILE));  // contains O_DIRECTORY
  // The upper half of the register is not the int's.
  EXPECT_TRUE(is_tun_open_flags(0xffffffff00000000ull | O_RDWR));
}

TEST(ExecTunAnswer, OnlyExactlyDevNetTun) {
  EXPECT_TRUE(is_tun_path(std::string("/dev/net/tun\0", 13)));
  EXPECT_FALSE(is_tun_path(std::string("/dev/net/tunx", 13)));       // longer path
  EXPECT_FALSE(is_tun_path(std::string("/dev/net/tun", 12)));        // unterminated read
  EXPECT_FALSE(is_tun_path(std::string("/dev//net/tu", 12)));
  EXPECT_FALSE(is_tun_path(std::string("/tmp/net/tun\0", 13)));
  EXPECT_EQ(kTunPathReadLength, 13u);
}

TEST(ExecTunAnswer, NamedDeviceIsAttached) {
  auto a = ask("tap7-0", kTapNoPi | IFF_ONE_QUEUE);  // openvpn's flags; IFF_ONE_QUEUE has no effect
  ASSERT_EQ(a.kind, TunAnswer::Kind::kAttach) << a.reason;
  EXPECT_EQ(a.name, "tap7-0");
  EXPECT_EQ(a.vif_kind, "tap");
  EXPECT_FALSE(a.multi_queue);
  EXPECT_EQ(describe_tunsetiff(a), "ioctl(TUNSETIFF, tap7-0)");
  auto tun = ask("tun7-1", IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE);
  ASSERT_EQ(tun.kind, TunAnswer::Kind::kAttach);
  EXPECT_EQ(tun.vif_kind, "tun");
  EXPECT_TRUE(tun.multi_queue);
  EXPECT_FALSE(tun.packet_info);
  EXPECT_FALSE(tun.vnet_hdr);
}

// wireguard-go 0.0.20220316 asks for a tun with the packet information header (no IFF_NO_PI);
// later releases for a virtio-net header: both are asked of netd, not refused.
TEST(ExecTunAnswer, PacketFormatIsAskedOfNetd) {
  auto wg = ask("tun7-0", IFF_TUN);
  ASSERT_EQ(wg.kind, TunAnswer::Kind::kAttach) << wg.reason;
  EXPECT_TRUE(wg.packet_info);
  EXPECT_FALSE(wg.vnet_hdr);
  auto vnet = ask("tun7-0", IFF_TUN | IFF_NO_PI | IFF_VNET_HDR);
  ASSERT_EQ(vnet.kind, TunAnswer::Kind::kAttach) << vnet.reason;
  EXPECT_FALSE(vnet.packet_info);
  EXPECT_TRUE(vnet.vnet_hdr);
  auto fresh = ask("", IFF_TAP | IFF_VNET_HDR);
  ASSERT_EQ(fresh.kind, TunAnswer::Kind::kAdd) << fresh.reason;
  EXPECT_TRUE(fresh.packet_info);
  EXPECT_TRUE(fresh.vnet_hdr);
}

TEST(ExecTunAnswer, EmptyNameOrTemplateIsNewDevice) {
  for (const char* name : {"", "tap%d", "vpn%d"}) {
    auto a = ask(name, kTapNoPi);
    ASSERT_EQ(a.kind, TunAnswer::Kind::kAdd) << name;
    EXPECT_EQ(a.vif_kind, "tap");
  }
  EXPECT_EQ(describe_tunsetiff(ask("", IFF_TUN | IFF_NO_PI)), "ioctl(TUNSETIFF, new tun)");
  // IFF_TUN_EXCL with no name: a new device is what it asks for.
  EXPECT_EQ(ask("", kTapNoPi | IFF_TUN_EXCL).kind, TunAnswer::Kind::kAdd);
}

TEST(ExecTunAnswer, NameCutAtSixteenBytesAsTheKernelDoes) {
  std::string full(16, 'x');
  auto a = answer_tunsetiff({full, kTapNoPi});
  EXPECT_EQ(a.name, std::string(15, 'x'));
}

TEST(ExecTunAnswer, UnmatchableFlagsAreEinval) {
  struct Case {
    uint16_t flags;
    const char* words;
  } cases[] = {
      {IFF_NO_PI, "neither IFF_TUN nor IFF_TAP"},
      {IFF_TUN | IFF_TAP | IFF_NO_PI, "neither IFF_TUN nor IFF_TAP"},
      {kTapNoPi | IFF_NO_CARRIER, "IFF_NO_CARRIER"},
      {kTapNoPi | IFF_NAPI, "IFF_NAPI"},
      {kTapNoPi | IFF_NAPI_FRAGS, "IFF_NAPI_FRAGS"},
  };
  for (const auto& c : cases) {
    auto a = ask("tap7-0", c.flags);
    ASSERT_EQ(a.kind, TunAnswer::Kind::kRefuse) << c.words;
    EXPECT_EQ(a.error, EINVAL) << c.words;
    EXPECT_NE(a.reason.find(c.words), std::string::npos) << a.reason;
  }
}

TEST(ExecTunAnswer, ExclusiveNamedDeviceIsRefused) {
  auto a = ask("tap7-3", kTapNoPi | IFF_TUN_EXCL);
  ASSERT_EQ(a.kind, TunAnswer::Kind::kRefuse);
  EXPECT_EQ(a.error, EPERM);
  EXPECT_NE(a.reason.find("netd names new devices itself"), std::string::npos) << a.reason;
}

TEST(ExecTunAnswer, DeviceMustMatchKindQueuesAndFormat) {
  auto tap = ask("tap7-0", kTapNoPi);
  EXPECT_EQ(tun_mismatch(tap, {"tap", false, false, false}), "");
  EXPECT_EQ(tun_mismatch(tap, {"tun", false, false, false}), "tap7-0 is a tun device, not a tap device");
  EXPECT_EQ(tun_mismatch(tap, {"tap", true, false, false}), "tap7-0 is multi-queue: IFF_MULTI_QUEUE must be set");
  auto mq = ask("tap7-0", kTapNoPi | IFF_MULTI_QUEUE);
  EXPECT_EQ(tun_mismatch(mq, {"tap", false, false, false}),
            "tap7-0 is not multi-queue: IFF_MULTI_QUEUE must not be set");
  EXPECT_EQ(tun_mismatch(tap, {"tap", false, true, false}),
            "tap7-0 carries the packet information header: IFF_NO_PI must not be set");
  auto pi = ask("tap7-0", IFF_TAP);
  EXPECT_EQ(tun_mismatch(pi, {"tap", false, true, false}), "");
  EXPECT_EQ(tun_mismatch(pi, {"tap", false, false, false}),
            "tap7-0 carries no packet information header: IFF_NO_PI must be set");
  EXPECT_EQ(tun_mismatch(tap, {"tap", false, false, true}),
            "tap7-0 carries a virtio-net header: IFF_VNET_HDR must be set");
}

}  // namespace
}  // namespace sliceip::exec
