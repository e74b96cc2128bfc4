// io.netd.SocketOps against a live netd: a member's program asks netd, through the C API
// (netd_setsockopt), for socket options that need CAP_NET_ADMIN, on its own socket, within
// its slice's max_sockbuf and max_priority; the kernel reads the result back on that socket.
// Refusals: above the ceiling, another uid's socket, not a socket, no fd or two, an option netd
// does not offer, a non-member. Bind (netd_bind): a reserved low port bound by netd for a
// socket made outside the testbed's cgroup (where the cgroup bind hook cannot help), then
// accepting a connection; refusals leave the socket unbound and unmarked.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/fixtures/json.h"
#include "tests/fixtures/process.h"
#include "tests/integration/common/testbed_test.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;

class SocketOpsTest : public TestbedTest {
 protected:
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_alice = "max_sockbuf = \"4MiB\"\nmax_priority = 5\nbind_ports = [\"80\", \"5000-5010\"]\n";
    return o;
  }
  // The probe's JSON line, run as `uid` (root for --made-by).
  nlohmann::json probe(uid_t uid, std::vector<std::string> args) {
    args.insert(args.begin(), SOCKET_OPS_PROBE);
    auto r = bed_->as(uid, args);
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    return json_of(r.out);
  }
  // The probe as `uid` in the host netns but outside the testbed's cgroup (the test's own), so
  // no cgroup program (tagging, bind hooks) judges its sockets.
  nlohmann::json probe_outside(uid_t uid, std::vector<std::string> args) {
    args.insert(args.begin(), {"env", "NETD_SOCKET=" + bed_->socket_path(), SOCKET_OPS_PROBE});
    auto r = run_as(uid, uid, &bed_->host(), "", args);
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    return json_of(r.out);
  }
};

constexpr uint32_t kAliceMark = 7u << 16;  // the testbed's alice: id 7, mark_mask 0x0fff0000

TEST_F(SocketOpsTest, ForcedBuffersUpToMaxSockbufAreSetAndReadBack) {
  auto rcv = probe(kAlice, {"SO_RCVBUFFORCE", "2097152"});
  EXPECT_EQ(rcv["rc"], 4194304) << rcv;  // the kernel keeps twice the size
  EXPECT_EQ(rcv["now"], 4194304) << rcv;  // on the caller's own socket
  auto snd = probe(kAlice, {"SO_SNDBUFFORCE", "4194304"});
  EXPECT_EQ(snd["now"], 8388608) << snd;
  // Without netd the member cannot: SO_RCVBUF alone is capped by net.core.rmem_max.
  auto plain = probe(kAlice, {"SO_RCVBUF", "2097152"});
  EXPECT_EQ(plain["rc"], -ENOPROTOOPT) << plain;
  EXPECT_THAT(plain["error"].get<std::string>(), HasSubstr("does not go through netd"));
}

TEST_F(SocketOpsTest, AboveTheCeilingIsRefusedAndNothingChanges) {
  auto r = probe(kAlice, {"SO_RCVBUFFORCE", "67108864"});
  EXPECT_EQ(r["rc"], -EPERM) << r;
  EXPECT_THAT(r["error"].get<std::string>(),
              HasSubstr("rcvbufforce 67108864 is above slice alice's max_sockbuf (4MiB)"));
  EXPECT_LT(r["now"].get<int>(), 4194304) << r;  // still the default
  // bob has the default ceilings: 4MiB and priority 0.
  EXPECT_EQ(probe(kBob, {"SO_PRIORITY", "1"})["rc"], -EPERM);
}

TEST_F(SocketOpsTest, PriorityUpToMaxPriority) {
  auto r = probe(kAlice, {"SO_PRIORITY", "5"});
  EXPECT_EQ(r["rc"], 5) << r;
  EXPECT_EQ(r["now"], 5) << r;
  auto over = probe(kAlice, {"SO_PRIORITY", "6"});
  EXPECT_EQ(over["rc"], -EPERM) << over;
  EXPECT_THAT(over["error"].get<std::string>(), HasSubstr("priority 6 is above slice alice's max_priority (5)"));
}

TEST_F(SocketOpsTest, AnotherUidsSocketIsRefused) {
  // Made by bob's uid (fsuid), passed by alice: not hers to change.
  auto r = probe(0, {"SO_RCVBUFFORCE", "1048576", "--made-by", "1002", "--as", "1001"});
  EXPECT_EQ(r["rc"], -EPERM) << r;
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("the socket belongs to uid 1002, not to uid 1001"));
  // Root's socket passed by alice: the same.
  auto root = probe(0, {"SO_PRIORITY", "1", "--made-by", "0", "--as", "1001"});
  EXPECT_THAT(root["error"].get<std::string>(), HasSubstr("the socket belongs to uid 0, not to uid 1001"));
}

TEST_F(SocketOpsTest, ASocketNetdHandedToTheSliceIsTheSlices) {
  // A raw socket from io.netd.Sockets is root's with the slice's raw mark.
  TestbedOptions o = testbed_options();
  o.extra_alice += "raw = [\"udp\"]\n";
  ASSERT_OK(bed_->write_policy(bed_->policy_text(o)));
  ASSERT_OK(bed_->reload_netd());
  constexpr const char* kRawThenSet = R"PY(
import json, os, socket
c = socket.socket(socket.AF_UNIX)
c.connect(os.environ["NETD_SOCKET"])
def call(method, params, fds=()):
    socket.send_fds(c, [json.dumps({"method": method, "parameters": params}).encode() + b"\0"], list(fds))
    reply, got = b"", []
    while not reply.endswith(b"\0"):
        chunk, fds_in, _, _ = socket.recv_fds(c, 65536, 4)
        reply += chunk
        got += fds_in
    return json.loads(reply[:-1]), got
_, fds = call("io.netd.Sockets.Raw", {"family": "inet", "protocol": "udp"})
reply, _ = call("io.netd.SocketOps.SetOption", {"option": "sndbufforce", "value": 1048576}, fds)
print(json.dumps(reply))
)PY";
  auto r = bed_->as(kAlice, {"/usr/bin/python3", "-c", kRawThenSet});
  ASSERT_TRUE(r.ok()) << r.describe();
  auto reply = json_of(r.out);
  EXPECT_EQ(reply["parameters"]["value"], 2097152) << reply;
}

TEST_F(SocketOpsTest, WhatIsNotOneSocketIsRefused) {
  auto pipe = probe(kAlice, {"SO_PRIORITY", "1", "--pipe"});
  EXPECT_EQ(pipe["rc"], -ENOTSOCK) << pipe;
  EXPECT_THAT(pipe["error"].get<std::string>(), HasSubstr("the passed fd is not a socket"));
  // Raw Varlink: no fd, and two (stdin twice).
  auto replies = bed_->varlink(
      kAlice, {{{"method", "io.netd.SocketOps.SetOption"}, {"parameters", {{"option", "priority"}, {"value", 1}}}},
               {{"method", "io.netd.SocketOps.SetOption"},
                {"parameters", {{"option", "priority"}, {"value", 1}}},
                {"_fds", 2}},
               {{"method", "io.netd.SocketOps.SetOption"},
                {"parameters", {{"option", "SO_PRIORITY"}, {"value", 1}}},
                {"_fds", 1}}});
  EXPECT_EQ(replies[0].value("error", ""), "io.netd.InvalidArgument") << replies[0];
  EXPECT_THAT(replies[0].dump(), HasSubstr("pass exactly one socket with the call (SCM_RIGHTS); it came with 0"));
  EXPECT_THAT(replies[1].dump(), HasSubstr("it came with 2"));
  EXPECT_THAT(replies[2].dump(), HasSubstr("option 'SO_PRIORITY' is not offered"));
}

TEST_F(SocketOpsTest, ANonMemberGetsNotMember) {
  auto r = probe(kCarol, {"SO_PRIORITY", "0"});
  EXPECT_EQ(r["rc"], -EPERM) << r;
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("io.netd.NotMember"));
}

// ---- Bind ----

TEST_F(SocketOpsTest, BindTakesAReservedLowPortForASocketMadeOutsideTheCgroup) {
  // Outside the testbed's cgroup alice's own bind() of port 80 is the kernel's plain EACCES:
  // only netd's CAP_NET_BIND_SERVICE can have bound it. The untagged socket gets her mark.
  auto tcp = probe_outside(kAlice, {"bind", "4", "tcp", "0.0.0.0", "80", "--direct", "--accept"});
  EXPECT_EQ(tcp["direct"], EACCES) << tcp;
  EXPECT_EQ(tcp["rc"], 0) << tcp;
  EXPECT_EQ(tcp["port"], 80) << tcp;
  EXPECT_EQ(tcp["mark"], kAliceMark) << tcp;
  EXPECT_EQ(tcp["accepted"], 1) << tcp;
  auto udp6 = probe_outside(kAlice, {"bind", "6", "udp", "::", "5005"});
  EXPECT_EQ(udp6["rc"], 0) << udp6;
  EXPECT_EQ(udp6["port"], 5005) << udp6;
  // Other ports below: the accepted connections above leave port 80 in TIME_WAIT.
  auto mapped = probe_outside(kAlice, {"bind", "6", "tcp", "::ffff:10.0.1.1", "5001", "--accept"});
  EXPECT_EQ(mapped["rc"], 0) << mapped;
  EXPECT_EQ(mapped["accepted"], 1) << mapped;
  // Inside the cgroup the socket is tagged already: netd binds it and leaves the mark.
  auto tagged = probe(kAlice, {"bind", "4", "tcp", "10.0.1.1", "5002", "--accept"});
  EXPECT_EQ(tagged["rc"], 0) << tagged;
  EXPECT_EQ(tagged["mark"], kAliceMark) << tagged;
  EXPECT_EQ(tagged["accepted"], 1) << tagged;
}

TEST_F(SocketOpsTest, BindRefusesAPortNotInBindPortsAndLeavesTheSocketAsItWas) {
  for (const char* port : {"81", "443", "5011"}) {
    auto r = probe_outside(kAlice, {"bind", "4", "tcp", "0.0.0.0", port});
    EXPECT_EQ(r["rc"], -EPERM) << r;
    EXPECT_THAT(r["error"].get<std::string>(),
                HasSubstr(std::string("port ") + port + " is not in slice alice's bind_ports (80, 5000-5010)"));
    EXPECT_EQ(r["port"], 0) << r;  // not bound
    EXPECT_EQ(r["mark"], 0) << r;  // not tagged either
  }
  // bob's slice has no bind_ports.
  auto bob = probe(kBob, {"bind", "4", "udp", "0.0.0.0", "80"});
  EXPECT_EQ(bob["rc"], -EPERM) << bob;
  EXPECT_THAT(bob["error"].get<std::string>(), HasSubstr("port 80 is not in slice bob's bind_ports (none)"));
}

TEST_F(SocketOpsTest, BindRefusesAnotherUidsSocketAndARawSocket) {
  auto bobs = probe(0, {"bind", "4", "tcp", "0.0.0.0", "80", "--made-by", "1002", "--as", "1001"});
  EXPECT_EQ(bobs["rc"], -EPERM) << bobs;
  EXPECT_THAT(bobs["error"].get<std::string>(), HasSubstr("the socket belongs to uid 1002, not to uid 1001"));
  EXPECT_EQ(bobs["port"], 0) << bobs;
  // A raw socket made (by root, with alice's fsuid) for alice: hers, but not one netd binds.
  auto raw = probe_outside(0, {"bind", "4", "raw", "0.0.0.0", "80", "--made-by", "1001", "--as", "1001"});
  EXPECT_EQ(raw["rc"], -EOPNOTSUPP) << raw;
  EXPECT_THAT(raw["error"].get<std::string>(),
              HasSubstr("a SOCK_RAW socket is not bound through netd: only TCP and UDP sockets"));
  EXPECT_EQ(raw["mark"], 0) << raw;
  // A non-member is no slice's.
  auto carol = probe(kCarol, {"bind", "4", "tcp", "0.0.0.0", "80"});
  EXPECT_EQ(carol["rc"], -EPERM) << carol;
  EXPECT_THAT(carol["error"].get<std::string>(), HasSubstr("io.netd.NotMember"));
}

TEST_F(SocketOpsTest, BindRefusesAnotherSlicesVifAddressAndGrantsTheSlicesOwn) {
  ASSERT_TRUE(bed_->vtuntap(kBob, {"add", "tap", "--addr", "10.8.0.1/24", "--up", "--persist"}).ok());
  ASSERT_TRUE(bed_->vtuntap(kAlice, {"add", "tap", "--addr", "10.7.0.1/24", "--up", "--persist"}).ok());
  for (const auto& [family, address] : {std::pair{"4", "10.8.0.1"}, std::pair{"6", "::ffff:10.8.0.1"}}) {
    auto r = probe_outside(kAlice, {"bind", family, "tcp", address, "80"});
    EXPECT_EQ(r["rc"], -EPERM) << r;
    EXPECT_THAT(r["error"].get<std::string>(),
                HasSubstr(std::string("address ") + address + " is on a vif of slice bob: not slice alice's to bind"));
    EXPECT_EQ(r["port"], 0) << r;
  }
  auto own = probe_outside(kAlice, {"bind", "4", "udp", "10.7.0.1", "80"});
  EXPECT_EQ(own["rc"], 0) << own;
  EXPECT_EQ(own["port"], 80) << own;
}

// Raw Varlink: what the C API would refuse before sending, and the kernel's own refusal.
TEST_F(SocketOpsTest, BindOverVarlinkRefusesBadRequestsAndPassesTheKernelsError) {
  constexpr const char* kBinds = R"PY(
import json, os, socket
c = socket.socket(socket.AF_UNIX)
c.connect(os.environ["NETD_SOCKET"])
def call(params, fds):
    socket.send_fds(c, [json.dumps({"method": "io.netd.SocketOps.Bind", "parameters": params}).encode() + b"\0"],
                    [f.fileno() for f in fds])
    reply = b""
    while not reply.endswith(b"\0"):
        reply += c.recv(65536)
    return json.loads(reply[:-1])
tcp = lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM)
first, second, six = tcp(), tcp(), socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
r, w = os.pipe()
out = [call({"address": "0.0.0.0", "port": 5003}, []),
       call({"address": "0.0.0.0", "port": 5003}, [open(r)]),
       call({"address": "0.0.0.0", "port": 0}, [first]),
       call({"address": "10.0.1.1/24", "port": 5003}, [first]),
       call({"address": "10.0.1.1", "port": 5003}, [six]),
       call({"address": "10.0.1.1", "port": 5003}, [first]),
       call({"address": "10.0.1.1", "port": 5003}, [second]),
       call({"address": "10.0.1.1", "port": 5004}, [first])]
print(json.dumps(out))
)PY";
  auto r = bed_->as(kAlice, {"/usr/bin/python3", "-c", kBinds});
  ASSERT_TRUE(r.ok()) << r.describe();
  auto replies = json_of(r.out);
  ASSERT_EQ(replies.size(), 8u) << r.out;
  EXPECT_EQ(replies[0].value("error", ""), "io.netd.InvalidArgument") << replies[0];
  EXPECT_THAT(replies[0].dump(), HasSubstr("pass exactly one socket with the call (SCM_RIGHTS); it came with 0"));
  EXPECT_THAT(replies[1].dump(), HasSubstr("the passed fd is not a socket"));
  EXPECT_THAT(replies[2].dump(), HasSubstr("port 0 is not a port 1..65535"));
  EXPECT_THAT(replies[3].dump(), HasSubstr("address '10.0.1.1/24' is not an IP address"));
  EXPECT_EQ(replies[4].value("error", ""), "io.netd.InvalidArgument") << replies[4];
  EXPECT_THAT(replies[4].dump(), HasSubstr("address 10.0.1.1 is IPv4 but the socket is AF_INET6"));
  EXPECT_EQ(replies[5].value("error", "none"), "none") << replies[5];  // bound
  // The same address and port again, on another socket: the kernel's EADDRINUSE, named.
  EXPECT_EQ(replies[6].value("error", ""), "io.netd.Conflict") << replies[6];
  EXPECT_EQ(replies[6]["parameters"].value("errno", 0), EADDRINUSE) << replies[6];
  EXPECT_THAT(replies[6].dump(), HasSubstr("binding 10.0.1.1:5003: Address already in use"));
  // A bound socket is not bound again.
  EXPECT_EQ(replies[7].value("error", ""), "io.netd.InvalidArgument") << replies[7];
  EXPECT_EQ(replies[7]["parameters"].value("errno", 0), EINVAL) << replies[7];
  EXPECT_THAT(replies[7].dump(), HasSubstr("binding 10.0.1.1:5004: Invalid argument"));
}

// Without CAP_NET_BIND_SERVICE netd serves, warns, and a low port's bind names what it lacks:
// the capability is what binds the port for a socket the cgroup hook does not judge.
class SocketOpsWithoutNetBindService : public SocketOpsTest {
  TestbedOptions testbed_options() const override {
    TestbedOptions o = SocketOpsTest::testbed_options();
    o.netd_wrapper = {"setpriv", "--bounding-set", "-net_bind_service", "--"};
    return o;
  }
};

TEST_F(SocketOpsWithoutNetBindService, ALowPortBindNamesTheMissingCapability) {
  EXPECT_THAT(bed_->netd_log(), HasSubstr("netd: warning: no CAP_NET_BIND_SERVICE"));
  auto low = probe_outside(kAlice, {"bind", "4", "tcp", "0.0.0.0", "80"});
  EXPECT_EQ(low["rc"], -EACCES) << low;
  EXPECT_THAT(low["error"].get<std::string>(), HasSubstr("binding 0.0.0.0:80: Permission denied (netd lacks "
                                                         "CAP_NET_BIND_SERVICE"));
  EXPECT_EQ(low["port"], 0) << low;
  EXPECT_EQ(low["mark"], 0) << low;  // the mark given for the bind is taken back
  // A high reserved port needs no capability.
  EXPECT_EQ(probe_outside(kAlice, {"bind", "4", "tcp", "0.0.0.0", "5000"})["rc"], 0);
}

}  // namespace
}  // namespace netd::testing
