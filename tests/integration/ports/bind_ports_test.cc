// bind_ports in the kernel: alice's reserved ports (80, 443, 5000-5010) are hers to bind without
// CAP_NET_BIND_SERVICE or any wrapper; bob (another slice) and carol (no slice) get EACCES for
// them; root keeps its own rules; ports nobody reserved are the kernel's as always. Binds are
// made by unmodified programs (python3's socket module, `python3 -m http.server 80`) run as
// the uids in the testbed's cgroup, and the map is read with bpftool by the invariant checker.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <string>
#include <vector>

#include "tests/fixtures/eventually.h"
#include "tests/integration/common/invariants.h"
#include "tests/integration/common/testbed_test.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

// argv: family (4|6) type (tcp|udp) address port. Prints "ok" or the errno's name.
constexpr const char* kBindProbe = R"PY(
import errno, socket, sys
family = socket.AF_INET if sys.argv[1] == "4" else socket.AF_INET6
kind = socket.SOCK_STREAM if sys.argv[2] == "tcp" else socket.SOCK_DGRAM
s = socket.socket(family, kind)
try:
    s.bind((sys.argv[3], int(sys.argv[4])))
    print("ok")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
)PY";

constexpr const char* kAlicePorts = "bind_ports = [\"80\", \"443\", \"5000-5010\"]\n";

class BindPorts : public TestbedTest {
 protected:
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_alice = kAlicePorts;
    return o;
  }

  // What bind() says to `uid` (in the testbed's cgroup and netns).
  std::string bind_as(uid_t uid, const std::string& family, const std::string& type, const std::string& address,
                      int port) {
    auto r = bed_->as(uid, {"/usr/bin/python3", "-c", kBindProbe, family, type, address, std::to_string(port)});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    std::string out = r.out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
};

struct Bind {
  const char* family;
  const char* type;
  const char* address;
};
constexpr Bind kEveryBind[] = {{"4", "tcp", "0.0.0.0"},  {"4", "udp", "0.0.0.0"}, {"4", "tcp", "10.0.1.1"},
                               {"6", "tcp", "::"},       {"6", "udp", "::"},      {"6", "tcp", "fd00:1::1"},
                               {"6", "udp", "::ffff:10.0.1.1"}};

TEST_F(BindPorts, MembersBindTheirPortsEveryoneElseGetsEacces) {
  for (const Bind& b : kEveryBind) {
    for (int port : {80, 443, 5005}) {
      SCOPED_TRACE(std::string(b.type) + " [" + b.address + "]:" + std::to_string(port));
      EXPECT_EQ(bind_as(kAlice, b.family, b.type, b.address, port), "ok");
      EXPECT_EQ(bind_as(kBob, b.family, b.type, b.address, port), "EACCES");
      EXPECT_EQ(bind_as(kCarol, b.family, b.type, b.address, port), "EACCES");
      EXPECT_EQ(bind_as(0, b.family, b.type, b.address, port), "ok");  // root: the kernel's rules
    }
  }
}

TEST_F(BindPorts, PortsNobodyReservedAreTheKernels) {
  // A low port nobody reserved still needs the capability, for members too.
  EXPECT_EQ(bind_as(kAlice, "4", "tcp", "0.0.0.0", 81), "EACCES");
  EXPECT_EQ(bind_as(kBob, "6", "udp", "::", 81), "EACCES");
  // High ports nobody reserved are anyone's; so is the port the kernel picks.
  for (uid_t uid : {kAlice, kBob, kCarol}) {
    EXPECT_EQ(bind_as(uid, "4", "tcp", "0.0.0.0", 5011), "ok");
    EXPECT_EQ(bind_as(uid, "6", "udp", "::", 0), "ok");
  }
}

TEST_F(BindPorts, AMemberServesPort80Unmodified) {
  auto server = bed_->spawn_as(kAlice, {"/usr/bin/python3", "-m", "http.server", "80", "--bind", "10.0.1.1",
                                        "--directory", "/"});
  ASSERT_OK(server);
  const std::vector<std::string> fetch = {
      "/usr/bin/python3", "-c",
      "import urllib.request; print(urllib.request.urlopen('http://10.0.1.1:80/', timeout=5).status)"};
  ProcessResult got;
  EXPECT_TRUE(eventually([&] {
    got = bed_->in_peer(fetch);
    return got.ok() && got.out == "200\n";
  })) << got.describe();
  // Bob's server on the same port would not even bind: 80 is alice's (and busy).
  auto bob = bed_->as(kBob, {"/usr/bin/python3", "-m", "http.server", "80", "--bind", "10.0.2.1"});
  EXPECT_NE(bob.exit_code, 0);
  EXPECT_THAT(bob.err, HasSubstr("Permission denied"));
  EXPECT_OK(server->kill(SIGTERM));
  server->wait();
}

TEST_F(BindPorts, TheMapIsThePolicysAndFollowsAReload) {
  EXPECT_THAT(settled_invariants(*bed_), IsEmpty());
  // 443 moves to bob; 5000-5010 is given up.
  TestbedOptions o;
  o.extra_alice = "bind_ports = [\"80\"]\n";
  o.extra_bob = "bind_ports = [\"443\"]\n";
  ASSERT_OK(bed_->write_policy(bed_->policy_text(o)));
  ASSERT_OK(bed_->reload_netd());
  EXPECT_EQ(bind_as(kBob, "4", "tcp", "0.0.0.0", 443), "ok");
  EXPECT_EQ(bind_as(kAlice, "4", "tcp", "0.0.0.0", 443), "EACCES");
  EXPECT_EQ(bind_as(kAlice, "4", "tcp", "0.0.0.0", 80), "ok");
  EXPECT_EQ(bind_as(kBob, "4", "udp", "0.0.0.0", 5005), "ok");  // no longer reserved, and unprivileged
  EXPECT_THAT(settled_invariants(*bed_), IsEmpty());
}

TEST_F(BindPorts, ReservationsHoldWhileNetdIsDown) {
  bed_->kill_netd(SIGKILL);
  EXPECT_EQ(bind_as(kAlice, "4", "tcp", "0.0.0.0", 80), "ok");
  EXPECT_EQ(bind_as(kBob, "4", "tcp", "0.0.0.0", 80), "EACCES");
  // A restart adopts the pinned map and links: nothing is attached twice.
  ASSERT_OK(bed_->start_netd());
  EXPECT_THAT(settled_invariants(*bed_), IsEmpty());
  EXPECT_EQ(bind_as(kBob, "6", "tcp", "::", 443), "EACCES");
}

TEST_F(BindPorts, TeardownLeavesNoReservation) {
  bed_->stop_netd();
  auto down = bed_->root({netd_binary(), "--policy", bed_->policy_path(), "--teardown"});
  ASSERT_EQ(down.exit_code, 0) << down.describe();
  EXPECT_EQ(bed_->root({"find", bed_->bpffs() + "/netd/ports"}).out, "");
  // The kernel's own rules again: nobody but root binds 80.
  EXPECT_EQ(bind_as(kAlice, "4", "tcp", "0.0.0.0", 80), "EACCES");
  EXPECT_EQ(bind_as(kBob, "4", "tcp", "0.0.0.0", 5005), "ok");
}

}  // namespace
}  // namespace netd::testing
