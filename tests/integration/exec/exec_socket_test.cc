// sliceip exec: unmodified programs as slice members. Debian's ping (file capability cap_net_raw,
// which no_new_privs withholds) and a C probe making plain socket(2) calls run under the
// supervisor as alice (raw icmp + packet), bob (raw icmp only) and carol (no slice), answered by
// the testbed's netd: what they get is checked in the kernel (fd flags, SO_MARK) and with real
// echo replies from the peer.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>

#include <string>
#include <vector>

#include "tests/fixtures/eventually.h"
#include "tests/fixtures/json.h"
#include "tests/fixtures/test_macros.h"
#include "tests/integration/common/testbed_test.h"
#include "tests/integration/exec/exec_support.h"
#include "tests/integration/exec/report_end.h"

namespace netd::testing {
namespace {

constexpr uid_t kAlice = 1001, kBob = 1002, kCarol = 1003;
constexpr uint32_t kAliceMark = 7u << 16;   // id 7 << mark_shift, mark_mask 0x0fff0000
constexpr uint32_t kRawFlag = 0x10000000;  // the testbed's raw_flag
constexpr int kEthPAll = 3;

size_t count_containing(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (const auto& line : lines_of(text))
    if (line.find(needle) != std::string::npos) ++n;
  return n;
}

class ExecSocket : public TestbedTest {
 protected:
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_alice = "raw = [\"icmp\", \"packet\"]\nmax_sockbuf = \"4MiB\"\n";
    o.extra_bob = "raw = [\"icmp\"]\nmax_sockbuf = \"0\"\n";
    return o;
  }

  // `sliceip exec -- ARGV...` as uid, to completion.
  ProcessResult exec(uid_t uid, std::vector<std::string> argv) const {
    argv.insert(argv.begin(), {"exec", "--"});
    return bed_->sliceip(uid, argv);
  }
  ProcessResult probe(uid_t uid, std::vector<std::string> args) const {
    args.insert(args.begin(), EXEC_PROBE);
    return exec(uid, args);
  }
  // The probe's last JSON line.
  static nlohmann::json last_json(const ProcessResult& r) {
    auto lines = lines_of(r.out);
    if (lines.empty()) return {{"unparsed", r.describe()}};
    auto j = json_of(lines.back());
    return j.is_object() ? j : nlohmann::json{{"unparsed", r.describe()}};
  }
  // Audit lines of calls made by process `pid` (the supervisor).
  std::vector<std::string> calls_by(int pid) const {
    std::vector<std::string> calls;
    for (const auto& line : lines_of(bed_->netd_log()))
      if (line.find(" pid=" + std::to_string(pid) + " ") != std::string::npos &&
          line.find(" method=") != std::string::npos)
        calls.push_back(line);
    return calls;
  }
};

TEST_F(ExecSocket, PingWorksUnmodified) {
  // No ICMP datagram ("ping") sockets for anyone: ping must fall back to a raw socket. Its file
  // capability cap_net_raw is not granted under no_new_privs (which sliceip exec sets): without
  // netd's socket it fails.
  ASSERT_OK(bed_->host().set_sysctl("net.ipv4.ping_group_range", "1 0"));
  auto bare = bed_->as(kAlice, {"setpriv", "--no-new-privs", "ping", "-c", "1", "-W", "5", "10.0.1.2"});
  ASSERT_NE(bare.exit_code, 0) << "ping works without sliceip; the test proves nothing: " << bare.describe();

  auto r = exec(kAlice, {"ping", "-c", "3", "-W", "5", "10.0.1.2"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, ::testing::HasSubstr("3 packets transmitted, 3 received")) << r.describe();
  // ping opens an ICMPv6 socket too (for any address family); alice's policy has no icmpv6, so
  // that one is refused with one line, and ping goes on with IPv4.
  EXPECT_EQ(r.err,
            "sliceip: exec: socket(AF_INET6, SOCK_RAW): refused: raw icmpv6 sockets are not allowed for slice alice "
            "(policy raw = [\"icmp\", \"packet\"])\n");
}

TEST_F(ExecSocket, InjectedAtLowestFdWithFlags) {
  auto r = probe(kAlice, {"socket", "packet", "raw", std::to_string(kEthPAll), "cloexec", "nonblock", "hole"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto j = last_json(r);
  ASSERT_EQ(j.value("errno", -1), 0) << j.dump() << r.describe();
  EXPECT_EQ(j.value("fd", -2), j.value("expected_fd", -3)) << j.dump();
  EXPECT_TRUE(j.value("cloexec", false)) << j.dump();
  EXPECT_TRUE(j.value("nonblock", false)) << j.dump();
  EXPECT_EQ(j.value("mark", 0u), kAliceMark | kRawFlag) << j.dump();
  EXPECT_EQ(j.value("type", 0), SOCK_RAW) << j.dump();

  // Without the flags, neither is set.
  auto plain = last_json(probe(kAlice, {"socket", "packet", "raw", std::to_string(kEthPAll)}));
  ASSERT_EQ(plain.value("errno", -1), 0) << plain.dump();
  EXPECT_EQ(plain.value("fd", -2), plain.value("expected_fd", -3)) << plain.dump();
  EXPECT_FALSE(plain.value("cloexec", true)) << plain.dump();
  EXPECT_FALSE(plain.value("nonblock", true)) << plain.dump();
}

TEST_F(ExecSocket, PolicyRefusalIsEpermWithOneLine) {
  auto r = probe(kBob, {"socket", "packet", "raw", std::to_string(kEthPAll), "count", "1000"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto j = last_json(r);
  EXPECT_EQ(j.value("eperm", -1), 1000) << j.dump() << r.describe();
  EXPECT_EQ(j.value("ok", -1), 0) << j.dump();
  const std::string line =
      "sliceip: exec: socket(AF_PACKET, SOCK_RAW): refused: packet sockets are not allowed for slice bob";
  EXPECT_EQ(count_containing(r.err, line), 1u) << r.err;
  EXPECT_EQ(count_containing(r.err, "refused: "), 1u) << r.err;
  EXPECT_EQ(count_containing(r.err, "sliceip: exec: socket(AF_PACKET, SOCK_RAW): refused 1000 times"), 1u) << r.err;

  // A single refused call: EPERM, the line, no count.
  auto one = probe(kBob, {"socket", "inet6", "raw", "58"});
  EXPECT_EQ(last_json(one).value("errno", 0), EPERM) << one.describe();
  EXPECT_EQ(count_containing(one.err, "socket(AF_INET6, SOCK_RAW): refused: raw icmpv6 sockets are not allowed"), 1u)
      << one.err;
  EXPECT_EQ(count_containing(one.err, "times"), 0u) << one.err;
}

TEST_F(ExecSocket, UntrappedCallsUntouched) {
  for (const char* type : {"stream", "dgram"}) {
    auto r = probe(kAlice, {"socket", "inet", type, "0"});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    auto j = last_json(r);
    ASSERT_EQ(j.value("errno", -1), 0) << type << " " << j.dump();
    EXPECT_EQ(j.value("mark", 0u), kAliceMark) << "an ordinary socket of alice's, not netd's: " << j.dump();
    EXPECT_TRUE(r.err.empty()) << r.err;
    // netd heard from this supervisor once: the Slices.Show at start.
    int supervisor = j.value("ppid", 0);
    std::vector<std::string> calls;
    ASSERT_TRUE(eventually([&] { return !(calls = calls_by(supervisor)).empty(); })) << bed_->netd_log();
    ASSERT_EQ(calls.size(), 1u) << ::testing::PrintToString(calls);
    EXPECT_THAT(calls[0], ::testing::HasSubstr("method=io.netd.Slices.Show"));
  }
}

TEST_F(ExecSocket, NonMemberExits125) {
  auto r = exec(kCarol, {EXEC_PROBE, "socket", "inet", "raw", "1"});
  EXPECT_EQ(r.exit_code, 125) << r.describe();
  EXPECT_EQ(r.err, "sliceip: exec: uid 1003 is not a member of any slice\n");
  EXPECT_TRUE(r.out.empty()) << "the program must not have run: " << r.out;

  // netd unreachable: 125 too.
  auto down = bed_->as(kAlice, {sliceip_binary(), "--socket", bed_->dir() + "/nothing.sock", "exec", "true"});
  EXPECT_EQ(down.exit_code, 125) << down.describe();
  EXPECT_THAT(down.err, ::testing::HasSubstr("sliceip: exec: cannot reach netd at")) << down.describe();
}

TEST_F(ExecSocket, CommandNotFound127) {
  // A PATH with only directories alice may search (execvp reports EACCES, 126, when a
  // directory on the PATH was not searchable and nothing was found, as env(1) does).
  auto missing = bed_->as(kAlice, {"env", "PATH=/usr/local/bin:/usr/bin:/bin", sliceip_binary(), "exec", "--",
                                   "no-such-command-netd-test"});
  EXPECT_EQ(missing.exit_code, 127) << missing.describe();
  EXPECT_THAT(missing.err, ::testing::HasSubstr("sliceip: exec: no-such-command-netd-test: No such file"));
  // Found but not executable: 126.
  auto not_exec = exec(kAlice, {"/etc/passwd"});  // mode 0644
  EXPECT_EQ(not_exec.exit_code, 126) << not_exec.describe();
  // Usage errors are sliceip's usual 1.
  EXPECT_EQ(bed_->sliceip(kAlice, {"exec"}).exit_code, 1);
}

TEST_F(ExecSocket, ExitStatusAndSignals) {
  EXPECT_EQ(exec(kAlice, {"sh", "-c", "exit 7"}).exit_code, 7);
  EXPECT_EQ(exec(kAlice, {"true"}).exit_code, 0);

  auto run = bed_->spawn_as(kAlice, reporting_end({sliceip_binary(), "exec", "--", EXEC_PROBE, "wait-signal"}));
  ASSERT_OK(run);
  auto ready = run->read_line();
  ASSERT_TRUE(ready.has_value()) << run->wait(std::chrono::seconds(2)).describe();
  int supervisor = json_of(*ready).value("ppid", 0);
  ASSERT_GT(supervisor, 1) << *ready;
  ASSERT_EQ(::kill(supervisor, SIGTERM), 0);
  auto got = run->read_line();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(json_of(*got).value("signo", 0), SIGTERM) << *got;
  auto end = run->read_line();
  ASSERT_TRUE(end.has_value()) << run->wait(std::chrono::seconds(2)).describe();
  auto e = json_of(*end);
  EXPECT_TRUE(e["exit"].is_null()) << "sliceip exited instead of dying of the signal: " << *end;
  EXPECT_EQ(e.value("signal", 0), SIGTERM) << *end;
  EXPECT_EQ(run->wait().exit_code, 0);
}

TEST_F(ExecSocket, ForkedChildKeepsTheFilter) {
  auto r = probe(kAlice, {"fork-exec", EXEC_PROBE, "socket", "inet", "raw", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto j = last_json(r);
  ASSERT_EQ(j.value("errno", -1), 0) << j.dump() << r.describe();
  EXPECT_EQ(j.value("mark", 0u), kAliceMark | kRawFlag) << "not netd's socket: " << j.dump();
}

}  // namespace
}  // namespace netd::testing

namespace netd::testing {
namespace {

// sliceip exits with the program's status when the program exits, even if a descendant it left
// behind still runs under the filter: a forked-off copy of the supervisor keeps answering it.
TEST_F(ExecSocket, DescendantOutlivingTheProgramIsStillServed) {
  auto run = bed_->spawn_as(kAlice, {sliceip_binary(), "exec", "--", EXEC_PROBE, "orphan-socket"});
  ASSERT_OK(run);
  // The orphan asks only once the process sliceip started as has exited.
  auto line = run->read_line();
  ASSERT_TRUE(line.has_value()) << run->wait(std::chrono::seconds(2)).describe();
  auto j = json_of(*line);
  ASSERT_EQ(j.value("errno", -1), 0) << *line;
  EXPECT_EQ(j.value("mark", 0u), kAliceMark | kRawFlag) << "not netd's socket: " << *line;
  auto end = run->wait();
  EXPECT_EQ(end.exit_code, 0) << end.describe();
}

// libpcap's filter calls on netd's socket (its filter is locked: the kernel says EPERM to both)
// get what libpcap understands; the program's own sockets keep the kernel's answers.
TEST_F(ExecSocket, FilterCallsOnNetdsLockedSocket) {
  auto locked = last_json(probe(kAlice, {"filter", "packet"}));
  ASSERT_EQ(locked.value("socket_errno", -1), 0) << locked.dump();
  EXPECT_EQ(locked.value("locked", 0), 1) << locked.dump();
  EXPECT_EQ(locked.value("attach_errno", -1), ENOPROTOOPT) << locked.dump();
  EXPECT_EQ(locked.value("detach_errno", -1), ENOENT) << locked.dump();

  auto own = probe(kAlice, {"filter", "udp"});
  auto j = last_json(own);
  EXPECT_EQ(j.value("locked", -1), 0) << j.dump();
  EXPECT_EQ(j.value("attach_errno", -1), 0) << j.dump();
  EXPECT_EQ(j.value("detach_errno", -1), 0) << j.dump();
  EXPECT_EQ(own.err, "") << own.describe();
}

// SO_RCVBUFFORCE needs CAP_NET_ADMIN: io.netd.SocketOps sets it within alice's max_sockbuf
// (4MiB) on her own socket; the kernel keeps twice the size asked for.
TEST_F(ExecSocket, ForcedBufferThroughSocketOps) {
  auto bare = bed_->as(kAlice, {EXEC_PROBE, "buffer", "rcv", "2097152"});
  ASSERT_EQ(last_json(bare).value("errno", -1), EPERM) << bare.describe();

  auto granted = probe(kAlice, {"buffer", "rcv", "2097152"});
  auto j = last_json(granted);
  EXPECT_EQ(j.value("errno", -1), 0) << j.dump() << granted.describe();
  EXPECT_EQ(j.value("value", 0), 4194304) << j.dump();
  auto snd = last_json(probe(kAlice, {"buffer", "snd", "1048576"}));
  EXPECT_EQ(snd.value("errno", -1), 0) << snd.dump();
  EXPECT_EQ(snd.value("value", 0), 2097152) << snd.dump();

  auto refused = probe(kAlice, {"buffer", "rcv", "67108864"});
  auto k = last_json(refused);
  EXPECT_EQ(k.value("errno", -1), EPERM) << k.dump();
  EXPECT_LT(k.value("value", 0), 4194304) << k.dump();  // untouched: the default size
  EXPECT_EQ(refused.err,
            "sliceip: exec: setsockopt(SO_RCVBUFFORCE, 67108864): refused: rcvbufforce 67108864 is above slice "
            "alice's max_sockbuf (4MiB)\n")
      << refused.describe();
}

// bob's slice has max_sockbuf 0: nothing is trapped, the kernel says EPERM as without sliceip.
TEST_F(ExecSocket, NoForcedBuffersWithoutMaxSockbuf) {
  auto r = probe(kBob, {"buffer", "rcv", "2097152"});
  EXPECT_EQ(last_json(r).value("errno", -1), EPERM) << r.describe();
  EXPECT_EQ(r.err, "") << r.describe();
}

}  // namespace
}  // namespace netd::testing
