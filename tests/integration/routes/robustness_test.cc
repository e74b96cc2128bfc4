// Robustness, for routes: netd killed, restarted, reloaded, torn down; hostile clients.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <set>
#include <thread>

#include "lib/client/client.h"
#include "tests/fixtures/json.h"
#include "tests/fixtures/require_root.h"
#include "tests/fixtures/test_macros.h"
#include "tests/integration/common/invariants.h"
#include "tests/integration/common/testbed_test.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class Robustness : public TestbedTest {
 protected:
  std::string routing_state() { return bed_->routing_state(); }
  size_t fwmark_rules() {
    return bed_->slice_rules().size();
  }
};

TEST_F(Robustness, IsolationOutlivesSigkillAndRestartAdopts) {
  ASSERT_TRUE(bed_->sliceip(kAlice, {"route", "add", "198.51.100.0/24", "via", "10.0.2.2"}).ok());
  ASSERT_TRUE(bed_->sliceip(kBob, {"route", "add", "198.51.100.0/25", "via", "10.0.1.2"}).ok());
  std::string before = routing_state();
  std::string nft_before = bed_->root({"nft", "-j", "list", "table", "inet", "netd"}).out;
  std::string netdev_before = bed_->root({"nft", "list", "table", "netdev", "netd"}).out;

  bed_->kill_netd(SIGKILL);
  // Tagging (pinned cgroup program), the slice route and the rule keep working without netd.
  EXPECT_EQ(bed_->connect_source(kAlice, "198.51.100.7"), "10.0.2.1");
  EXPECT_EQ(bed_->connect_source(kBob, "198.51.100.7"), "10.0.1.1");
  auto refused = bed_->sliceip(kAlice, {"route", "show"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("cannot reach netd"));

  // Restart with the same policy: it adopts, nothing is duplicated.
  ASSERT_OK(bed_->start_netd());
  EXPECT_EQ(routing_state(), before);
  EXPECT_EQ(bed_->root({"nft", "-j", "list", "table", "inet", "netd"}).out, nft_before);
  auto progs = json_of(bed_->root({"bpftool", "-j", "cgroup", "show", bed_->cgroup()}).out);
  // Each program once: tagging (sock_create), the port reservations (bind4, bind6), the vif
  // guard (bind4, bind6; its ingress program only while some vif exists) and the flow recorder
  // (bind4, bind6, post_bind4, post_bind6, sock_release; its egress program only once some slice
  // may hold raw or packet sockets, which none may here).
  std::multiset<std::string> names;
  for (const auto& p : progs) names.insert(p.value("name", ""));
  EXPECT_EQ(names, (std::multiset<std::string>{"sock_create", "reserve_bind4", "reserve_bind6", "vif_bind4",
                                                "vif_bind6", "owner_bind4", "owner_bind6", "port_bind4", "port_bind6",
                                                "port_release"}))
      << progs.dump();
  // The netdev table (if any: the raw send fence, the vif guard) is adopted as it was too.
  EXPECT_EQ(bed_->root({"nft", "list", "table", "netdev", "netd"}).out, netdev_before);
  EXPECT_EQ(bed_->connect_source(kAlice, "198.51.100.7"), "10.0.2.1");
  ASSERT_TRUE(bed_->sliceip(kAlice, {"route", "del", "198.51.100.0/24"}).ok());
  EXPECT_EQ(fwmark_rules(), 1u);  // bob's
  EXPECT_THAT(settled_invariants(*bed_), ::testing::IsEmpty());
}

TEST_F(Robustness, ReloadAppliesDifferenceAndKeepsOldPolicyWhenInvalid) {
  ASSERT_TRUE(bed_->sliceip(kBob, {"route", "add", "198.51.100.0/24", "via", "10.0.2.2"}).ok());
  ASSERT_EQ(fwmark_rules(), 1u);

  // An invalid file is refused whole: bob keeps working.
  std::string valid = bed_->policy_text({});
  ASSERT_OK(bed_->write_policy(valid + "\nbogus_key = 1\n"));
  auto outcome = bed_->reload_netd();
  ASSERT_OK(outcome);
  EXPECT_THAT(*outcome, HasSubstr("policy kept"));
  EXPECT_THAT(*outcome, HasSubstr("bogus_key"));
  EXPECT_TRUE(bed_->sliceip(kBob, {"route", "show"}).ok());
  EXPECT_EQ(fwmark_rules(), 1u);

  // Where netd's state lives cannot change under it: refused, old policy kept.
  std::string moved = valid;
  moved.replace(moved.find("table_base = 10000"), 18, "table_base = 20000");
  ASSERT_OK(bed_->write_policy(moved));
  outcome = bed_->reload_netd();
  ASSERT_OK(outcome);
  EXPECT_THAT(*outcome, HasSubstr("policy kept: changing [netd] table_base needs a restart of netd"));
  EXPECT_EQ(fwmark_rules(), 1u);
  EXPECT_EQ(bed_->slice_rules()[0]["table"], "10008");

  // Bob removed from the policy: his routes, rule and mark go at once.
  std::string alice_only = valid.substr(0, valid.find("\n[[slice]]\nname = \"bob\""));
  ASSERT_OK(bed_->write_policy(alice_only));
  outcome = bed_->reload_netd();
  ASSERT_OK(outcome);
  EXPECT_THAT(*outcome, HasSubstr("netd: reloaded"));
  EXPECT_EQ(fwmark_rules(), 0u);
  EXPECT_EQ(bed_->root({"ip", "route", "show", "table", "10008"}).out, "");
  auto r = bed_->sliceip(kBob, {"route", "show"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("uid 1002 is not a member of any slice"));
  auto mark = bed_->as(kBob, {"/usr/bin/python3", "-c",
                              "import socket; print(socket.socket().getsockopt(socket.SOL_SOCKET, socket.SO_MARK))"});
  EXPECT_EQ(mark.out, "0\n");
}

TEST_F(Robustness, ReloadGivingAnIdToANewSliceStartsItEmpty) {
  ASSERT_TRUE(bed_->sliceip(kBob, {"route", "add", "198.51.100.0/24", "via", "10.0.2.2"}).ok());
  // bob (id 8) leaves; dave (uid 1004) arrives with id 8: he must not inherit bob's routes.
  std::string valid = bed_->policy_text({});
  std::string with_dave = valid.substr(0, valid.find("\n[[slice]]\nname = \"bob\"")) +
                          "\n[[slice]]\nname = \"dave\"\nid = 8\nuids = [1004]\n"
                          "route_devices = [\"uplink0\"]\nroute_prefixes = [\"198.51.100.0/24\"]\n";
  ASSERT_OK(bed_->write_policy(with_dave));
  auto outcome = bed_->reload_netd();
  ASSERT_OK(outcome);
  EXPECT_THAT(*outcome, HasSubstr("netd: reloaded"));
  EXPECT_EQ(bed_->root({"ip", "route", "show", "table", "10008"}).out, "");
  EXPECT_EQ(fwmark_rules(), 0u);
  auto dave = bed_->sliceip(1004, {"-j", "slice", "show"});
  ASSERT_TRUE(dave.ok()) << dave.describe();
  EXPECT_EQ(json_of(dave.out)["routes"], 0);
  EXPECT_EQ(bed_->connect_source(1004, "198.51.100.7"), "10.0.1.1");
  EXPECT_THAT(settled_invariants(*bed_), ::testing::IsEmpty());
}

TEST_F(Robustness, TeardownLeavesNothing) {
  ASSERT_TRUE(bed_->sliceip(kAlice, {"route", "add", "198.51.100.0/24", "via", "10.0.2.2"}).ok());
  ASSERT_TRUE(bed_->sliceip(kAlice, {"route", "add", "2001:db8:100::/64", "via", "fd00:2::2"}).ok());
  bed_->stop_netd();
  auto down = bed_->root({netd_binary(), "--policy", bed_->policy_path(), "--teardown"});
  ASSERT_TRUE(down.ok()) << down.describe();
  EXPECT_THAT(down.err, Not(HasSubstr("left behind"))) << down.describe();
  EXPECT_EQ(fwmark_rules(), 0u);
  EXPECT_EQ(bed_->slice_rules("-6").size(), 0u);
  EXPECT_EQ(bed_->root({"ip", "route", "show", "table", "10007"}).out, "");
  EXPECT_EQ(bed_->root({"nft", "list", "tables"}).out, "");
  auto attached = bed_->root({"bpftool", "-j", "cgroup", "show", bed_->cgroup()});
  EXPECT_EQ(attached.out.find("sock_create"), std::string::npos) << attached.describe();
  auto pins = bed_->root({"find", bed_->bpffs() + "/netd", "-mindepth", "1"});
  EXPECT_EQ(pins.out, "");
  auto mark = bed_->as(kAlice, {"/usr/bin/python3", "-c",
                                "import socket; print(socket.socket().getsockopt(socket.SOL_SOCKET, socket.SO_MARK))"});
  EXPECT_EQ(mark.out, "0\n");
}

// A device the kernel refuses to delete stays, and teardown says so: the netns's loopback, renamed
// to a vif's name (loopback has no rtnetlink delete: EOPNOTSUPP). Everything else still goes; the
// vif guard stays with the vif, so it is never unguarded; exit 2. With the device out of the way,
// a second teardown finishes and exits 0.
TEST_F(Robustness, TeardownNamesWhatItLeavesBehind) {
  ASSERT_TRUE(bed_->sliceip(kAlice, {"route", "add", "198.51.100.0/24", "via", "10.0.2.2"}).ok());
  bed_->stop_netd();
  ASSERT_TRUE(bed_->root({"ip", "link", "set", "lo", "down"}).ok());
  ASSERT_TRUE(bed_->root({"ip", "link", "set", "lo", "name", "tun9-0"}).ok());
  auto down = bed_->root({netd_binary(), "--policy", bed_->policy_path(), "--teardown"});
  EXPECT_EQ(down.exit_code, 2) << down.describe();
  EXPECT_THAT(down.err, HasSubstr("netd: teardown: left behind: device tun9-0: deleting link tun9-0: "
                                  "Operation not supported\n"));
  EXPECT_THAT(down.err, HasSubstr("netd: teardown: left behind: vif guard links and pins under " +
                                  bed_->bpffs() + "/netd: kept while a vif is left"));
  size_t lines = 0;
  for (size_t at = down.err.find("left behind"); at != std::string::npos; at = down.err.find("left behind", at + 1))
    ++lines;
  EXPECT_EQ(lines, 2u) << down.err;
  // The rest is gone.
  EXPECT_EQ(fwmark_rules(), 0u);
  EXPECT_EQ(bed_->root({"ip", "route", "show", "table", "10007"}).out, "");
  EXPECT_EQ(bed_->root({"nft", "list", "tables"}).out, "");
  EXPECT_EQ(bed_->root({"find", bed_->bpffs() + "/netd/tagging", bed_->bpffs() + "/netd/ports",
                         bed_->bpffs() + "/netd/raw"})
                .out,
            "");
  auto attached = bed_->root({"bpftool", "-j", "cgroup", "show", bed_->cgroup()});
  EXPECT_EQ(attached.out.find("sock_create"), std::string::npos) << attached.describe();
  // The guard stays (its ingress program is attached only while netd knows a vif: this one
  // it never made).
  EXPECT_NE(attached.out.find("vif_bind4"), std::string::npos) << attached.describe();

  ASSERT_TRUE(bed_->root({"ip", "link", "set", "tun9-0", "name", "lo"}).ok());
  ASSERT_TRUE(bed_->root({"ip", "link", "set", "lo", "up"}).ok());
  auto again = bed_->root({netd_binary(), "--policy", bed_->policy_path(), "--teardown"});
  EXPECT_TRUE(again.ok()) << again.describe();
  EXPECT_THAT(again.err, Not(HasSubstr("left behind"))) << again.describe();
  EXPECT_EQ(bed_->root({"find", bed_->bpffs() + "/netd", "-mindepth", "1"}).out, "");
  attached = bed_->root({"bpftool", "-j", "cgroup", "show", bed_->cgroup()});
  EXPECT_EQ(attached.out.find("vif_"), std::string::npos) << attached.describe();
}

// Sends each argument (hex, or "BIG" for 1 MiB of 'A') on a fresh connection as the calling uid and prints, per
// message, the reply (up to its NUL) and whether netd then closed the connection.
constexpr const char* kHostileClient = R"PY(
import os, socket, sys, json
out = []
for hexmsg in sys.argv[1:]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.environ["NETD_SOCKET"])
    s.settimeout(2)
    try:
        s.sendall(b"A" * (1 << 20) if hexmsg == "BIG" else bytes.fromhex(hexmsg))
    except (BrokenPipeError, ConnectionResetError):
        pass
    reply = b""
    try:
        while not reply.endswith(b"\0"):
            chunk = s.recv(65536)
            if not chunk: break
            reply += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    s.settimeout(0.2)
    try:
        closed = s.recv(1) == b""
    except socket.timeout:
        closed = False
    except ConnectionResetError:
        closed = True
    out.append({"reply": reply.rstrip(b"\0").decode(errors="replace"), "closed": closed})
print(json.dumps(out))
)PY";

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

TEST_F(Robustness, HostileMessagesGetErrorsAndChangeNothing) {
  std::string before = routing_state();
  const std::string nul(1, '\0');
  struct Case {
    std::string bytes;
    std::string expect;  // substring of the error reply
    bool closes;
  } cases[] = {
      {"this is not json" + nul, "io.netd.InvalidArgument", true},
      {"[1,2,3]" + nul, "not a JSON object", true},
      {R"({"method":42})" + nul, "request has no method", true},
      {R"({"method":"io.netd.Routes.Add","parameters":[]})" + nul, "parameters must be an object", true},
      {R"({"method":"io.netd.Routes.Add","parameters":{},"sneaky":1})" + nul, "unknown request field 'sneaky'", true},
      {R"({"method":"io.netd.Nope.Gone","parameters":{}})" + nul, "org.varlink.service.MethodNotFound", false},
      {"{\"method\":\"x result=ok\\naudit uid=0 method=io.netd.Admin.Reload\"}" + nul, "method name must be", true},
      {R"({"method":"io.netd.Routes.Add","parameters":{"route":{"dst":7}}})" + nul, "must be a string", false},
      {R"({"method":"io.netd.Routes.Add","parameters":{"route":{"dst":"198.51.100.0/24","table":254}}})" + nul,
       "unknown field 'table'", false},
      {R"({"method":"io.netd.Routes.Add","parameters":{"route":{"dst":"198.51.100.0/24"},"x":true}})" + nul,
       "unknown field 'x'", false},
      {R"({"method":"io.netd.Routes.Add","parameters":{"route":{"dst":"198.51.100.0/24","dev":"uplink1"},"replace":"yes"}})" + nul,
       "must be a boolean", false},
      // Varlink allows null for an optional field: it means absent.
      {R"({"method":"io.netd.Routes.List","parameters":{"family":null,"prefix":null}})" + nul, "\"routes\"", false},
      {R"({"method":"io.netd.Routes.Add","parameters":{"route":{"dst":null}}})" + nul,
       "field 'dst' in route must be a string", false},
      {R"({"method":"io.netd.Vifs.Add","parameters":{"kind":"tun","addresses":[{"address":"10.7.0.1/30","x":1}]}})" + nul,
       "unknown field 'x' in addresses[0]", false},
      {R"({"method":"io.netd.Qdiscs.Replace","parameters":{"dev":"tun7-0","kind":"tbf","rate":9223372036854775808}})" + nul,
       "must be an integer of at most 2^63-1", false},
      {R"({"method":"io.netd.Vifs.Delete","parameters":{"name":"tun8-0"}})" + nul, "is not a device of slice alice",
       false},
      {R"({"method":"io.netd.Routes.Add","parameters":{"route":{"dst":"198.51.100.0/24","dev":"uplink1\u0000x"}}})" +
           nul,
       "is not a device name", false},
      {std::string(1 << 20, 'A'), "exceeds 65536 bytes", true},
      // Truncated: half a message, then the client stops talking (netd must not hang on it).
      {R"({"method":"io.netd.Routes.Add","param)", "", false},
  };
  std::vector<std::string> argv = {"/usr/bin/python3", "-c", kHostileClient};
  // 1 MiB does not fit in an argument: the client makes it.
  for (const auto& c : cases) argv.push_back(c.bytes.size() == (1u << 20) ? "BIG" : hex(c.bytes));
  auto r = bed_->as(kAlice, argv);
  ASSERT_TRUE(r.ok()) << r.describe().substr(0, 2000);
  auto replies = json_of(r.out);
  ASSERT_EQ(replies.size(), std::size(cases)) << r.out;
  for (size_t i = 0; i < std::size(cases); ++i) {
    std::string reply = replies[i]["reply"].get<std::string>();
    if (cases[i].expect.empty()) {
      EXPECT_EQ(reply, "") << cases[i].bytes.substr(0, 80);
    } else {
      EXPECT_THAT(reply, HasSubstr(cases[i].expect)) << cases[i].bytes.substr(0, 80);
    }
    if (cases[i].closes) {
      EXPECT_TRUE(replies[i]["closed"].get<bool>()) << cases[i].bytes.substr(0, 80);
    }
  }
  // netd serves others all along, and nothing changed in the kernel.
  auto ok = bed_->sliceip(kBob, {"slice", "show"});
  EXPECT_TRUE(ok.ok()) << ok.describe();
  EXPECT_EQ(routing_state(), before);
}

class RateLimited : public TestbedTest {
 protected:
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_netd = "requests_per_second_per_uid = 5\n";
    return o;
  }
};

TEST_F(RateLimited, RequestsBeyondTheRateAreRefusedPerUid) {
  // 20 calls sent at once on one connection (netd reads them back to back, however slow the
  // client or this machine is): the bucket holds 5, one second's worth. Then a second
  // connection, opened at once, finds the bucket still empty: it does not refill per connection.
  auto burst = bed_->as(kAlice, {"/usr/bin/python3", "-c", R"PY(
import json, os, socket
def replies(s, n):
    data = b""
    while data.count(b"\0") < n:
        data += s.recv(65536)
    return data.split(b"\0")[:n]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(os.environ["NETD_SOCKET"])
calls = b""
for i in range(20):
    method = b"io.netd.Slices.Show" if i % 2 == 0 else b"io.netd.No.Such"
    calls += b'{"method":"' + method + b'","parameters":{}}\0'
s.sendall(calls)
ok = limited = 0
for reply in replies(s, 20):
    if b"ResourceExhausted" in reply and b"rate limit" in reply: limited += 1
    elif b'"slice"' in reply or b"MethodNotFound" in reply: ok += 1
t = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
t.connect(os.environ["NETD_SOCKET"])
t.sendall(b'{"method":"io.netd.Slices.Show","parameters":{}}\0')
print(ok, limited)
print(replies(t, 1)[0].decode())
# And the CLI says so: exit 2 with netd's reason (started at once, before a token refills).
import subprocess, sys
cli = subprocess.run([sys.argv[1], "slice", "show"], capture_output=True, text=True)
print("sliceip exit", cli.returncode, cli.stderr.strip())
)PY", sliceip_binary()});
  ASSERT_TRUE(burst.ok()) << burst.describe();
  int ok = 0, limited = 0;
  ASSERT_EQ(sscanf(burst.out.c_str(), "%d %d", &ok, &limited), 2) << burst.out;
  EXPECT_GE(ok, 5);
  EXPECT_LE(ok, 7);  // plus what refilled while netd answered the 20 (400 ms would refill 2)
  EXPECT_EQ(ok + limited, 20);
  // A new connection does not refill the bucket, and unknown methods cost tokens too.
  EXPECT_THAT(burst.out, HasSubstr("rate limit of 5 per second for uid 1001")) << burst.out;
  EXPECT_THAT(burst.out, HasSubstr("sliceip exit 2 ")) << burst.out;
  EXPECT_THAT(burst.out.substr(burst.out.find("sliceip exit")), HasSubstr("rate limit of 5 per second for uid 1001"))
      << burst.out;
  // Another uid has its own bucket.
  EXPECT_TRUE(bed_->sliceip(kBob, {"slice", "show"}).ok());
}

TEST_F(Robustness, ConnectionFloodIsCappedPerUid) {
  // alice opens 200 connections and holds them; beyond the per-uid cap (64) netd answers
  // ResourceExhausted and closes. bob is served while they are held.
  auto flood = spawn_as(kAlice, kAlice, &bed_->host(), bed_->cgroup(),
                        {"env", "NETD_SOCKET=" + bed_->socket_path(), "/usr/bin/python3", "-c", R"PY(
import socket, sys, os
conns, refused = [], 0
for i in range(200):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.environ["NETD_SOCKET"])
    conns.append(s)
for s in conns:
    s.settimeout(0.2)
    try:
        if b"ResourceExhausted" in s.recv(4096): refused += 1
    except socket.timeout:
        pass
print(refused, flush=True)
sys.stdin.read()
)PY"});
  ASSERT_OK(flood);
  EXPECT_EQ(flood->read_line(std::chrono::seconds(60)), std::optional<std::string>("136"));
  auto bob = bed_->sliceip(kBob, {"slice", "show"});
  EXPECT_TRUE(bob.ok()) << bob.describe();
  auto alice = bed_->sliceip(kAlice, {"slice", "show"});
  EXPECT_EQ(alice.exit_code, 2) << alice.describe();
  EXPECT_THAT(alice.err, HasSubstr("too many connections for uid 1001"));
  flood->close_stdin();
  EXPECT_TRUE(flood->wait().ok());
  // Connections released: alice is served again.
  auto again = bed_->sliceip(kAlice, {"slice", "show"});
  EXPECT_TRUE(again.ok()) << again.describe();
}

}  // namespace
}  // namespace netd::testing
