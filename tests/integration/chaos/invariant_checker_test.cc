// The invariant checker itself (tests/integration/common/invariants.h): silent on a testbed
// netd made state in, and naming each kind of orphan or isolation hole put there by hand.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/common/invariants.h"
#include "tests/integration/common/testbed_test.h"

namespace netd::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class InvariantChecker : public TestbedTest {
 protected:
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_alice = "raw = [\"udp\"]\nrate = \"20mbit\"\nceil = \"40mbit\"\npacket_send_devices = [\"uplink0\"]\n"
                    "bind_ports = [\"80\"]\n";
    o.extra_bob = "rate = \"50mbit\"\n";
    return o;
  }
  // Some of everything netd makes: routes of both families, vifs, a raw socket, own limits.
  void make_state() {
    ASSERT_TRUE(bed_->sliceip(kAlice, {"route", "add", "198.51.100.0/24", "via", "10.0.2.2"}).ok());
    ASSERT_TRUE(bed_->sliceip(kAlice, {"route", "add", "2001:db8:100::/64", "via", "fd00:2::2"}).ok());
    ASSERT_TRUE(bed_->vtuntap(kAlice, {"add", "tun", "--addr", "10.7.0.1/30", "--up", "--persist"}).ok());
    auto tap = bed_->vtuntap(kBob, {"add", "tap", "--addr", "10.8.0.1/30", "--addr", "fd00:8::1/64", "--persist"});
    ASSERT_TRUE(tap.ok()) << tap.describe() << bed_->netd_log();
    ASSERT_TRUE(bed_->sliceip(kAlice, {"shape", "set", "rate", "10mbit"}).ok());
    auto raw = bed_->varlink(
        kAlice, {{{"method", "io.netd.Sockets.Raw"}, {"parameters", {{"family", "inet"}, {"protocol", "udp"}}}}});
    ASSERT_TRUE(raw[0].contains("parameters")) << raw[0];
  }
  // The violations with `how` done to the kernel, which `undo` takes back.
  std::vector<std::string> with(const std::vector<std::string>& how, const std::vector<std::string>& undo) {
    auto done = bed_->root(how);
    EXPECT_TRUE(done.ok()) << done.describe();
    auto found = check_invariants(*bed_);
    auto undone = bed_->root(undo);
    EXPECT_TRUE(undone.ok()) << undone.describe();
    return found;
  }
  std::string pin(const std::string& rel) const { return bed_->bpffs() + "/netd/" + rel; }
};

TEST_F(InvariantChecker, SilentOnWhatNetdMadeAndNamesWhatItDidNot) {
  make_state();
  if (HasFatalFailure()) return;
  EXPECT_THAT(settled_invariants(*bed_), IsEmpty());

  EXPECT_THAT(with({"ip", "rule", "add", "priority", "1000", "fwmark", "0x90000/0xfff0000", "table", "10009"},
                   {"ip", "rule", "del", "priority", "1000", "fwmark", "0x90000/0xfff0000", "table", "10009"}),
              Contains(HasSubstr("orphan: IPv4 rule")));
  EXPECT_THAT(with({"ip", "route", "add", "192.0.2.0/24", "dev", "uplink0", "table", "10008"},
                   {"ip", "route", "del", "192.0.2.0/24", "dev", "uplink0", "table", "10008"}),
              Contains("missing: the IPv4 rule of slice bob, whose table 10008 holds 1 routes"));
  auto alice6 = bed_->slice_rules("-6");
  ASSERT_EQ(alice6.size(), 1u) << alice6.dump();
  const std::string alice6_priority = std::to_string(alice6[0]["priority"].get<uint32_t>());
  EXPECT_THAT(with({"ip", "-6", "rule", "del", "priority", alice6_priority},
                   {"ip", "-6", "rule", "add", "priority", alice6_priority, "fwmark", "0x70000/0xfff0000", "table",
                    "10007"}),
              Contains("missing: the IPv6 rule of slice alice, whose table 10007 holds 1 routes"));
  // Without the entry rule, everyone's packets walk netd's tree.
  EXPECT_THAT(with({"ip", "-6", "rule", "del", "priority", "1000"},
                   {"ip", "-6", "rule", "add", "priority", "1000", "fwmark", "0/0xfff0000", "goto", "13288"}),
              Contains(HasSubstr("slow: IPv6 packets of no slice walk")));
  // A lookup rule for alice's mark before her own sends her packets elsewhere.
  EXPECT_THAT(with({"ip", "-6", "rule", "add", "priority", "1001", "fwmark", "0x70000/0xfff0000", "table", "main"},
                   {"ip", "-6", "rule", "del", "priority", "1001", "fwmark", "0x70000/0xfff0000", "table", "main"}),
              ::testing::IsSupersetOf({HasSubstr("orphan: IPv6 rule"),
                                       HasSubstr("misrouted: slice alice's IPv6 packets reach main")}));
  EXPECT_THAT(with({"ip", "tuntap", "add", "tun9-0", "mode", "tun"}, {"ip", "link", "del", "tun9-0"}),
              Contains("orphan: vif tun9-0 of slice id 9, which the policy does not have"));
  EXPECT_THAT(with({"ip", "tuntap", "add", "tap7-3", "mode", "tap", "user", "1002"}, {"ip", "link", "del", "tap7-3"}),
              ::testing::IsSupersetOf({"isolation: vif tap7-3 is owned by uid 1002, outside slice alice",
                                       "orphan: vif tap7-3 exists but netd does not list it for slice alice"}));
  EXPECT_THAT(with({"nft", "add", "element", "inet", "netd", "vifs", "{ tun7-9 }"},
                   {"nft", "delete", "element", "inet", "netd", "vifs", "{ tun7-9 }"}),
              Contains("orphan: inet netd vifs element tun7-9"));
  EXPECT_THAT(with({"nft", "add", "element", "netdev", "netd", "send_devices", "{ 0x80000 . \"uplink1\" }"},
                   {"nft", "delete", "element", "netdev", "netd", "send_devices", "{ 0x80000 . \"uplink1\" }"}),
              Contains("orphan: netdev netd send_devices element 0x80000 . uplink1"));
  EXPECT_THAT(with({"bpftool", "map", "pin", "pinned", pin("tagging/uid_marks"), pin("tagging/stray")},
                   {"rm", pin("tagging/stray")}),
              Contains("orphan: bpffs pin tagging/stray"));
  EXPECT_THAT(
      with({"bpftool", "map", "update", "pinned", pin("tagging/uid_marks"), "key", "0xeb", "0x03", "0", "0", "value",
            "0", "0", "9", "0"},
           {"bpftool", "map", "delete", "pinned", pin("tagging/uid_marks"), "key", "0xeb", "0x03", "0", "0"}),
      ::testing::AllOf(Contains("orphan: tagging uid_marks entry 1003 -> 0x90000"),
                       Contains(HasSubstr("isolation: non-member uid 1003's new sockets carry marks 0x90000"))));
  // Port 81 (0x51) given to bob's mark: a reservation the policy does not make.
  EXPECT_THAT(with({"bpftool", "map", "update", "pinned", pin("ports/reserved_ports"), "key", "0x51", "0", "0", "0",
                    "value", "0", "0", "8", "0"},
                   {"bpftool", "map", "delete", "pinned", pin("ports/reserved_ports"), "key", "0x51", "0", "0", "0"}),
              Contains("orphan: reserved_ports entry 81 -> 0x80000"));
  EXPECT_THAT(with({"bpftool", "map", "delete", "pinned", pin("ports/reserved_ports"), "key", "0x50", "0", "0", "0"},
                   {"bpftool", "map", "update", "pinned", pin("ports/reserved_ports"), "key", "0x50", "0", "0", "0",
                    "value", "0", "0", "7", "0"}),
              Contains("missing: reserved_ports entry 80 -> 0x70000"));
  EXPECT_THAT(
      with({"tc", "class", "add", "dev", "uplink0", "parent", "4e44:ffff", "classid", "4e44:9", "htb", "rate", "1mbit"},
           {"tc", "class", "del", "dev", "uplink0", "classid", "4e44:9"}),
      Contains("orphan: HTB class 4e44:9 on uplink0"));
  EXPECT_THAT(with({"tc", "qdisc", "add", "dev", "uplink1", "root", "handle", "4e44:", "htb"},
                   {"tc", "qdisc", "del", "dev", "uplink1", "root"}),
              Contains("orphan: netd's HTB root on uplink1, which is no uplink of the policy"));
  EXPECT_THAT(
      with({"tc", "class", "change", "dev", "uplink0", "classid", "4e44:7", "htb", "rate", "15mbit", "ceil", "15mbit"},
           {"tc", "class", "change", "dev", "uplink0", "classid", "4e44:7", "htb", "rate", "10mbit", "ceil", "10mbit"}),
      Contains(HasSubstr("shaping: HTB class 4e44:7 on uplink0 has parent 4e44:ffff rate 15000000")));

  EXPECT_THAT(settled_invariants(*bed_), IsEmpty());
}

// Without netd nothing can be asked: the checker says so rather than passing.
TEST_F(InvariantChecker, NetdNotAnsweringIsAViolation) {
  bed_->stop_netd();
  EXPECT_THAT(check_invariants(*bed_), Contains(HasSubstr("netd: vtuntap -j list as uid 1001")));
}

}  // namespace
}  // namespace netd::testing
