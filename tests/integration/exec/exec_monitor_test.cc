// A monitor slice (capture_all) runs unmodified capture tools under `sliceip exec`: the packet
// socket libpcap binds to an uplink becomes netd's capture socket on it, so tcpdump and a NetFlow
// probe (softflowd, exporting to nfcapd; read back with nfdump) see every slice's traffic there.
// Checked against real connections of alice and bob to the peer, told apart by source port.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/fixtures/eventually.h"
#include "tests/fixtures/test_macros.h"
#include "tests/integration/common/testbed_test.h"
#include "tests/integration/common/traffic_scripts.h"
#include "tests/integration/exec/exec_support.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;

constexpr uid_t kMon = 1004;
constexpr const char* kMonitorSlice =
    "\n[[slice]]\nname = \"mon\"\nid = 9\nuids = [1004]\ncapture_all = true\nraw = [\"packet\"]\n";

bool installed(const char* path) { return access(path, X_OK) == 0; }

class ExecMonitor : public TestbedTest {
 protected:
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_alice = "raw = [\"packet\"]\n";
    o.extra_bob = kMonitorSlice;
    return o;
  }

  // `sliceip exec -- ARGV` as uid, stderr merged into stdout.
  Result<ChildProcess> spawn_exec(uid_t uid, const std::vector<std::string>& argv) const {
    return bed_->spawn_as(uid, exec_merged(sliceip_binary(), argv));
  }

  void connect_from(uid_t uid, const char* port) const {
    auto r = bed_->as(uid, {"python3", "-c", kClientFromPort, port});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
  }
};

TEST_F(ExecMonitor, TcpdumpSeesEverySlicesTraffic) {
  if (!installed("/usr/bin/tcpdump")) GTEST_SKIP() << "tcpdump is not installed: run scripts/install-deps";
  auto dump = spawn_exec(kMon, {"tcpdump", "-n", "-l", "-i", "uplink0", "tcp port 8080"});
  ASSERT_OK(dump);
  std::string seen;
  ASSERT_TRUE(read_through(*dump, seen, "listening on uplink0")) << "tcpdump did not start: " << seen;
  connect_from(kAlice, "40001");
  connect_from(kBob, "40002");
  bool alice = false, bob = false;
  while (!(alice && bob)) {
    auto line = dump->read_line(std::chrono::seconds(20));
    ASSERT_TRUE(line) << "saw only: " << seen;
    seen += *line + "\n";
    alice = alice || line->find("10.0.1.1.40001") != std::string::npos;
    bob = bob || line->find("10.0.1.1.40002") != std::string::npos;
  }
  ASSERT_OK(dump->kill(SIGINT));
  auto end = dump->wait();
  EXPECT_EQ(end.exit_code, 0) << seen << end.describe();
  EXPECT_THAT(seen + end.out, ::testing::Not(HasSubstr("refused"))) << seen << end.out;
}

// The monitor's NetFlow probe: softflowd under sliceip exec exports v9 to nfcapd (root, on
// loopback); nfdump reads back alice's and bob's flows with their ports and byte counts.
TEST_F(ExecMonitor, SoftflowdExportsEverySlicesFlows) {
  if (!installed("/usr/sbin/softflowd") || !installed("/usr/bin/nfcapd") || !installed("/usr/bin/nfdump"))
    GTEST_SKIP() << "softflowd/nfdump are not installed: run scripts/install-deps";
  const std::string flows = bed_->dir() + "/flows";
  const std::string state = bed_->dir() + "/softflowd";
  ASSERT_EQ(mkdir(flows.c_str(), 0700), 0);
  ASSERT_EQ(mkdir(state.c_str(), 0777), 0);
  ASSERT_EQ(chmod(state.c_str(), 0777), 0);
  const std::string collector_port = "2055";
  auto collector = spawn_in(&bed_->host(), {"nfcapd", "-w", flows, "-b", "127.0.0.1", "-p", collector_port, "-t", "2"});
  ASSERT_OK(collector);

  const std::string control = state + "/ctl";
  auto probe = spawn_exec(kMon, {"softflowd", "-d", "-i", "uplink0", "-n", "127.0.0.1:" + collector_port, "-v", "9",
                                 "-c", control, "-p", state + "/pid"});
  ASSERT_OK(probe);
  // The control socket is made after the capture is set up.
  ASSERT_TRUE(eventually([&] { return access(control.c_str(), F_OK) == 0; }, std::chrono::seconds(20)));

  // alice: 100 datagrams of 1000 bytes; bob: 50 of 500 (IP bytes: +28 each).
  auto a = bed_->as(kAlice, {"python3", "-c", kUdpSender, "41001", "9001", "100", "1000"});
  ASSERT_EQ(a.exit_code, 0) << a.describe();
  auto b = bed_->as(kBob, {"python3", "-c", kUdpSender, "41002", "9002", "50", "500"});
  ASSERT_EQ(b.exit_code, 0) << b.describe();
  // softflowd opens its capture with no timeout, so libpcap hands it packets only a whole
  // TPACKET_V3 block (256 KiB) at a time (the same as root, without sliceip): root's filler
  // datagrams, on a port of their own, push the block holding the measured flows out.
  ProcessResult stats;
  auto processed = [&] {
    auto filler = bed_->root({"python3", "-c", kUdpSender, "41009", "9009", "500", "64"});
    stats = bed_->as(kMon, {"softflowctl", "-c", control, "statistics"});
    unsigned long long packets = 0;
    size_t at = stats.out.find("Packets processed: ");
    if (at != std::string::npos) packets = std::stoull(stats.out.substr(at + 19));
    return filler.exit_code == 0 && packets >= 150;
  };
  ASSERT_TRUE(eventually(processed, std::chrono::seconds(30))) << stats.describe();
  // Flows are exported when they expire: now, on request.
  ProcessResult expired;
  ASSERT_TRUE(eventually([&] {
    expired = bed_->as(kMon, {"softflowctl", "-c", control, "expire-all"});
    return expired.exit_code == 0;
  })) << expired.describe();

  // nfcapd closes a file every 2 s; nfdump reads the closed ones.
  std::string table;
  auto both_there = [&] {
    auto r = bed_->root({"nfdump", "-R", flows, "-q", "-N", "-o", "fmt:%sp %dp %pkt %byt", "proto udp"});
    table.clear();  // nfdump aligns its columns: one space between fields
    for (char c : r.out + r.err)
      if (c != ' ' || (!table.empty() && table.back() != ' ' && table.back() != '\n')) table += c;
    return table.find("41001 9001") != std::string::npos && table.find("41002 9002") != std::string::npos;
  };
  if (!eventually(both_there, std::chrono::seconds(30))) {
    (void)probe->kill(SIGTERM);
    auto all = bed_->root({"nfdump", "-R", flows, "-q", "-N", "-o", "fmt:%sp %dp %pkt %byt"});
    FAIL() << "nfdump: " << table << "\nevery flow: " << all.describe() << "\nsoftflowd: " << probe->wait().describe()
           << "\nexpire-all: " << expired.describe() << "\nstats: " << stats.describe() << "\nls: " << bed_->root({"ls", "-la", flows}).out;
  }
  // "41001 9001 100 102800": the sum over the rows of each flow (an export may split one).
  auto totals = [&](const std::string& ports) {
    uint64_t packets = 0, bytes = 0;
    size_t at = 0;
    while ((at = table.find(ports, at)) != std::string::npos) {
      unsigned long long p = 0, by = 0;
      if (sscanf(table.c_str() + at + ports.size(), "%llu %llu", &p, &by) == 2) {
        packets += p;
        bytes += by;
      }
      at += ports.size();
    }
    return std::pair{packets, bytes};
  };
  auto [alice_packets, alice_bytes] = totals("41001 9001");
  auto [bob_packets, bob_bytes] = totals("41002 9002");
  EXPECT_EQ(alice_packets, 100u) << table;
  EXPECT_NEAR(static_cast<double>(alice_bytes), 100 * 1028.0, 100 * 1028.0 * 0.03) << table;
  EXPECT_EQ(bob_packets, 50u) << table;
  EXPECT_NEAR(static_cast<double>(bob_bytes), 50 * 528.0, 50 * 528.0 * 0.03) << table;

  ASSERT_OK(probe->kill(SIGTERM));
  auto end = probe->wait();
  EXPECT_THAT(end.out, ::testing::Not(HasSubstr("refused"))) << end.describe();
}

// A monitor binding its packet socket to a device that is no uplink (here lo): netd refuses the
// capture, the supervisor says so in one line and lets the bind go on to the kernel, so the
// program keeps the slice's own socket and sees only the slice's packets there.
TEST_F(ExecMonitor, ANonUplinkBindKeepsTheSlicesOwnSocket) {
  if (!installed("/usr/bin/tcpdump")) GTEST_SKIP() << "tcpdump is not installed: run scripts/install-deps";
  auto dump = spawn_exec(kMon, {"tcpdump", "-n", "-l", "-i", "lo", "udp port 9100"});
  ASSERT_OK(dump);
  std::string seen;
  ASSERT_TRUE(read_through(*dump, seen, "listening on lo")) << "tcpdump did not start: " << seen;
  EXPECT_THAT(seen, HasSubstr("bind(AF_PACKET, lo) as a capture"));
  EXPECT_THAT(seen, HasSubstr("is not an uplink"));
  EXPECT_THAT(seen, HasSubstr("the socket stays the slice's own"));
  // root's datagram first, then mon's: tcpdump shows mon's, and root's never came before it.
  constexpr const char* kLoopbackDatagram =
      "import socket, sys\n"
      "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
      "s.bind(('127.0.0.1', int(sys.argv[1])))\n"
      "s.sendto(b'x', ('127.0.0.1', 9100))\n";
  auto by_root = bed_->root({"python3", "-c", kLoopbackDatagram, "41101"});
  ASSERT_EQ(by_root.exit_code, 0) << by_root.describe();
  auto by_mon = bed_->as(kMon, {"python3", "-c", kLoopbackDatagram, "41102"});
  ASSERT_EQ(by_mon.exit_code, 0) << by_mon.describe();
  ASSERT_TRUE(read_through(*dump, seen, "127.0.0.1.41102")) << "mon's own datagram was not seen: " << seen;
  EXPECT_THAT(seen, ::testing::Not(HasSubstr("127.0.0.1.41101"))) << seen;
  ASSERT_OK(dump->kill(SIGINT));
  (void)dump->wait();
}

}  // namespace
}  // namespace netd::testing
