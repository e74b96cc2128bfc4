// io.netd.SocketOps against a live netd: a member's program asks netd, through the C API
// (netd_setsockopt), for socket options that need CAP_NET_ADMIN, on its own socket, within
// its slice's max_sockbuf and max_priority; the kernel reads the result back on that socket.
// Refusals: above the ceiling, another uid's socket, not a socket, no fd or two, an option netd
// does not offer, a non-member.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/fixtures/json.h"
#include "tests/integration/common/testbed_test.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;

class SocketOpsTest : public TestbedTest {
 protected:
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_alice = "max_sockbuf = \"4MiB\"\nmax_priority = 5\n";
    return o;
  }
  // The probe's JSON line, run as `uid` (root for --made-by).
  nlohmann::json probe(uid_t uid, std::vector<std::string> args) {
    args.insert(args.begin(), SOCKET_OPS_PROBE);
    auto r = bed_->as(uid, args);
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    return json_of(r.out);
  }
};

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

}  // namespace
}  // namespace netd::testing
