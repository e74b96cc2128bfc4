// Unmodified tcpdump as a slice member under `sliceip exec`: libpcap opens a packet socket with
// protocol 0 (netd's socket, injected), binds it to uplink0, sets up its TPACKET_V3 ring and
// tries to put its filter in the kernel, which netd's locked filter refuses; sliceip answers
// that so libpcap filters in user space. What tcpdump prints is checked against two real TCP
// connections to the peer's server, alice's and bob's, told apart by their source ports.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/fixtures/test_macros.h"
#include "tests/integration/common/testbed_test.h"
#include "tests/integration/exec/exec_support.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kAlicePort = "40001";
constexpr const char* kBobPort = "40002";

// tcpdump's lines that show a packet.
std::vector<std::string> packet_lines(const std::string& text) {
  std::vector<std::string> lines;
  for (auto& line : lines_of(text))
    if (line.find(" IP ") != std::string::npos || line.find(" IP6 ") != std::string::npos ||
        line.find(" ARP") != std::string::npos)
      lines.push_back(line);
  return lines;
}

class ExecTcpdump : public TestbedTest {
 protected:
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_alice = "raw = [\"packet\"]\n";
    return o;
  }

  void SetUp() override {
    if (access("/usr/bin/tcpdump", X_OK) != 0) GTEST_SKIP() << "tcpdump is not installed: run scripts/install-deps";
    TestbedTest::SetUp();
  }

  // `sliceip exec -- tcpdump ARGS` as alice, stderr merged into stdout; returns once tcpdump says
  // it is listening (after its filter is set), with what it printed until then in `preamble_`.
  ChildProcess start_tcpdump(std::vector<std::string> args) {
    args.insert(args.begin(), "tcpdump");
    auto child = bed_->spawn_as(kAlice, exec_merged(sliceip_binary(), args));
    EXPECT_OK(child);
    EXPECT_TRUE(read_through(*child, preamble_, "listening on uplink0")) << preamble_;
    return std::move(*child);
  }

  void connect_from(uid_t uid, const char* port) {
    auto r = bed_->as(uid, {"python3", "-c", kClientFromPort, port});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
  }

  // bob's connection first, then alice's: were bob's packets delivered, they would come first.
  void both_connect() {
    connect_from(kBob, kBobPort);
    connect_from(kAlice, kAlicePort);
  }

  static void expect_only_alices_flow_both_ways(const std::vector<std::string>& lines, size_t count) {
    ASSERT_EQ(lines.size(), count);
    bool out = false, in = false;
    for (const auto& line : lines) {
      EXPECT_THAT(line, HasSubstr(std::string("10.0.1.1.") + kAlicePort));
      EXPECT_THAT(line, Not(HasSubstr(kBobPort)));
      out = out || line.find(std::string("10.0.1.1.") + kAlicePort + " > 10.0.1.2.8080") != std::string::npos;
      in = in || line.find(std::string("10.0.1.2.8080 > 10.0.1.1.") + kAlicePort) != std::string::npos;
    }
    EXPECT_TRUE(out) << "no packet of alice's flow to the peer";
    EXPECT_TRUE(in) << "no packet of alice's flow from the peer";
  }

  std::string preamble_;
};

TEST_F(ExecTcpdump, SeesOwnFlowBothWaysNotBobs) {
  // Without sliceip, tcpdump has no packet socket for alice.
  auto bare = bed_->as(kAlice, {"tcpdump", "-n", "-c", "1", "-i", "uplink0"});
  ASSERT_NE(bare.exit_code, 0) << "tcpdump works without sliceip; the test proves nothing: " << bare.describe();

  ChildProcess dump = start_tcpdump({"-n", "-l", "-i", "uplink0", "-c", "4", "tcp port 8080"});
  both_connect();
  auto r = dump.wait(std::chrono::seconds(30));
  ASSERT_EQ(r.exit_code, 0) << preamble_ << r.describe();
  expect_only_alices_flow_both_ways(packet_lines(r.out), 4);
  // libpcap filtered in user space without a word, and never gave up on its kernel filter.
  EXPECT_THAT(preamble_ + r.out, Not(HasSubstr("Kernel filter failed")));
  EXPECT_THAT(preamble_ + r.out, Not(HasSubstr("can't remove kernel filter")));
  EXPECT_THAT(preamble_ + r.out, Not(HasSubstr("refused")));
}

// No expression: whatever else crosses uplink0 (bob's connection, neighbour discovery) is not
// alice's, so the first packets she sees are her own connection's.
TEST_F(ExecTcpdump, WithoutFilterExpression) {
  ChildProcess dump = start_tcpdump({"-n", "-l", "-i", "uplink0", "-c", "4"});
  both_connect();
  auto r = dump.wait(std::chrono::seconds(30));
  ASSERT_EQ(r.exit_code, 0) << preamble_ << r.describe();
  expect_only_alices_flow_both_ways(packet_lines(r.out), 4);
}

TEST_F(ExecTcpdump, WriteFileReadAsRoot) {
  // A directory alice may write in.
  const std::string dir = bed_->dir() + "/pcap";
  ASSERT_EQ(mkdir(dir.c_str(), 0777), 0);
  ASSERT_EQ(chmod(dir.c_str(), 0777), 0);
  const std::string file = dir + "/alice.pcap";
  ChildProcess dump = start_tcpdump({"-n", "-i", "uplink0", "-c", "6", "-w", file});
  both_connect();
  auto r = dump.wait(std::chrono::seconds(30));
  ASSERT_EQ(r.exit_code, 0) << preamble_ << r.describe();
  auto read = bed_->root({"tcpdump", "-n", "-r", file});
  ASSERT_EQ(read.exit_code, 0) << read.describe();
  expect_only_alices_flow_both_ways(packet_lines(read.out), 6);
}

}  // namespace
}  // namespace netd::testing
