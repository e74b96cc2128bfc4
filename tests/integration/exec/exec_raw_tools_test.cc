// Unmodified traceroute -I and nmap -sS as slice members under `sliceip exec`. traceroute's raw
// ICMP socket and nmap's IPPROTO_RAW send socket and libpcap packet socket are netd's; what they
// report is checked against the testbed's peer (which answers ICMP echo and serves TCP 8080), and
// a forged source address is checked on the peer's side of the wire with a root tcpdump.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include "tests/fixtures/json.h"
#include "tests/fixtures/test_macros.h"
#include "tests/integration/common/testbed_test.h"
#include "tests/integration/exec/exec_support.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr uint32_t kAliceMark = 7u << 16;  // id 7 << mark_shift, mark_mask 0x0fff0000
constexpr const char* kForgedSource = "10.0.1.99";
constexpr const char* kBobsAddress = "10.8.0.1";
constexpr const char* kMarkerPort = "9999";

// A UDP datagram from alice's own socket to the peer: the event that ends a wait on the peer.
constexpr const char* kSendMarker = R"PY(
import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"marker", ("10.0.1.2", int(sys.argv[1])))
)PY";

size_t count_containing(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

class ExecRaw : public TestbedTest {
 protected:
  // alice holds every raw IP kind (and packet sockets, for nmap's libpcap); bob only icmp.
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_alice = "raw = [\"icmp\", \"icmpv6\", \"udp\", \"tcp\", \"packet\"]\n";
    o.extra_bob = "raw = [\"icmp\", \"packet\"]\n";
    // As on a host whose `cgroup` covers netd too: nmap's SYN-ACKs pass the slice filter by the
    // flows its SYNs leave in the flow map, which sees only sockets of processes in that cgroup.
    o.netd_in_cgroup = true;
    return o;
  }

  void SetUp() override {
    for (const char* tool : {"/usr/sbin/traceroute", "/usr/bin/nmap", "/usr/bin/tcpdump"})
      if (access(tool, X_OK) != 0) GTEST_SKIP() << tool << " is not installed: run scripts/install-deps";
    TestbedTest::SetUp();
  }

  ProcessResult exec(uid_t uid, std::vector<std::string> argv) const {
    argv.insert(argv.begin(), {"exec", "--"});
    return bed_->sliceip(uid, argv);
  }

  static std::vector<std::string> nmap_scan(std::vector<std::string> extra) {
    std::vector<std::string> argv = {"nmap", "--privileged", "--send-ip", "-sS", "-n", "-Pn", "-p", "8080"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("10.0.1.2");
    return argv;
  }
};

TEST_F(ExecRaw, TracerouteIcmpReachesPeer) {
  // No ICMP datagram sockets: traceroute -I tries one first, then falls back to a raw socket,
  // which only netd can give it.
  ASSERT_OK(bed_->host().set_sysctl("net.ipv4.ping_group_range", "1 0"));
  auto bare = bed_->as(kAlice, {"traceroute", "-I", "-n", "-q", "1", "10.0.1.2"});
  ASSERT_NE(bare.exit_code, 0) << "traceroute -I works without sliceip; the test proves nothing: " << bare.describe();

  // -w bounds the wait for an answer that never comes; the peer is the first hop and answers.
  auto r = exec(kAlice, {"traceroute", "-I", "-n", "-q", "1", "-w", "5", "10.0.1.2"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\n 1  10\\.0\\.1\\.2  [0-9.]+ ms\n$"))) << r.describe();
  EXPECT_EQ(r.err, "") << r.describe();
}

TEST_F(ExecRaw, NmapSynScanFindsOpenPort) {
  auto bare = bed_->as(kAlice, nmap_scan({}));
  ASSERT_THAT(bare.out, Not(HasSubstr("8080/tcp open")))
      << "nmap -sS works without sliceip; the test proves nothing: " << bare.describe();

  // 8081: nobody listens; the peer's RST reaches the slice's packet socket too.
  auto r = exec(kAlice, {"nmap", "--privileged", "--send-ip", "-sS", "-n", "-Pn", "-p", "8080,8081", "10.0.1.2"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("8080/tcp open")) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("8081/tcp closed")) << r.describe();
  EXPECT_THAT(r.err, Not(HasSubstr("refused"))) << r.describe();

  // The SYN-ACK passed the slice filter by the flow the header-include SYN left at cgroup egress.
  auto flows = bed_->root({"bpftool", "-j", "map", "dump", "pinned", bed_->bpffs() + "/netd/raw/flows"});
  ASSERT_EQ(flows.exit_code, 0) << flows.describe();
  bool learned = false;
  for (const auto& raw_entry : json_of(flows.out)) {
    const auto& entry = raw_entry.contains("formatted") ? raw_entry["formatted"] : raw_entry;  // with BTF
    const auto& key = entry["key"];
    learned = learned || (key.value("proto", 0) == IPPROTO_TCP && key.value("dport", 0) == htons(8080) &&
                          key["daddr"][3] == 2 && entry.value("value", 0u) == kAliceMark);
  }
  EXPECT_TRUE(learned) << flows.out;
}

// nmap -6 opens an IPPROTO_RAW socket of each family; alice holds every kind of both.
TEST_F(ExecRaw, NmapSynScanIpv6) {
  auto r = exec(kAlice, {"nmap", "--privileged", "--send-ip", "-6", "-sS", "-n", "-Pn", "-p", "8080,8081", "fd00:1::2"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("8080/tcp open")) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("8081/tcp closed")) << r.describe();
  EXPECT_THAT(r.err, Not(HasSubstr("refused"))) << r.describe();
}

TEST_F(ExecRaw, NmapForgedSourceNeverLeaves) {
  // A source that is bob's (his vif's address: local, so nmap finds a route for it) and one that
  // is nobody's.
  auto vif = bed_->vtuntap(kBob, {"add", "tun", "--addr", std::string(kBobsAddress) + "/30", "--persist"});
  ASSERT_TRUE(vif.ok()) << vif.describe();

  // Everything from either source, and the marker, as the peer's wire sees them.
  auto dump = bed_->spawn_in_peer({"sh", "-c",
                                   std::string("exec tcpdump -n -l -i peer0 'src host ") + kForgedSource +
                                       " or src host " + kBobsAddress + " or udp dst port " + kMarkerPort + "' 2>&1"});
  ASSERT_OK(dump);
  std::string seen;
  ASSERT_TRUE(read_through(*dump, seen, "listening on")) << "tcpdump in the peer never listened: " << seen;

  // Bob's address: nmap sends, the fence drops each SYN at output and sendto() fails.
  auto as_bob = exec(kAlice, nmap_scan({"-S", kBobsAddress, "-e", "uplink0"}));
  ASSERT_EQ(as_bob.exit_code, 0) << as_bob.describe();
  EXPECT_THAT(as_bob.err, HasSubstr("=> Operation not permitted\nOffending packet: TCP " + std::string(kBobsAddress) +
                                    ":"))
      << as_bob.describe();
  EXPECT_THAT(as_bob.out, Not(HasSubstr("8080/tcp open"))) << as_bob.describe();
  // Nobody's address: the kernel finds no route from it (nmap asks with RTA_SRC, which must be
  // local, root or not), so nmap gives up before sending.
  auto nobody = exec(kAlice, nmap_scan({"-S", kForgedSource, "-e", "uplink0"}));
  EXPECT_THAT(nobody.out + nobody.err, Not(HasSubstr("8080/tcp open"))) << nobody.describe();

  // The marker leaves after both scans ended, on the same wire: once the peer sees it, anything
  // forged would have been seen before it.
  auto marker = bed_->as(kAlice, {"python3", "-c", kSendMarker, kMarkerPort});
  ASSERT_EQ(marker.exit_code, 0) << marker.describe();
  ASSERT_TRUE(read_through(*dump, seen, std::string(".") + kMarkerPort + ":"))
      << "the marker never reached the peer: " << seen;
  EXPECT_THAT(seen, Not(HasSubstr(std::string(kForgedSource) + "."))) << seen;
  EXPECT_THAT(seen, Not(HasSubstr(std::string(kBobsAddress) + "."))) << seen;
  EXPECT_OK(dump->kill());
}

TEST_F(ExecRaw, NmapWithoutEveryIpKindIsRefusedWithOneLine) {
  auto r = exec(kBob, nmap_scan({}));
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out + r.err, Not(HasSubstr("8080/tcp open"))) << r.describe();
  EXPECT_THAT(r.out + r.err, HasSubstr("Operation not permitted")) << r.describe();
  EXPECT_EQ(count_containing(r.err, "refused: "), 1u) << r.err;
  EXPECT_THAT(r.err, HasSubstr("sliceip: exec: socket(AF_INET, SOCK_RAW): refused: raw sockets of protocol 255 "
                               "(IPPROTO_RAW: header-include, any IP protocol) need every raw inet kind (icmp, "
                               "udp, tcp); slice bob lacks udp, tcp (policy raw = [\"icmp\", \"packet\"])\n"))
      << r.err;
}

}  // namespace
}  // namespace netd::testing
