// Varlink as a foreign client sees it: a few lines of Python, introspection, fd rules.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "lib/client/client.h"
#include "tests/fixtures/json.h"
#include "tests/fixtures/require_root.h"
#include "tests/fixtures/test_macros.h"
#include "tests/integration/common/testbed_test.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;

using Protocol = TestbedTest;

TEST_F(Protocol, PythonClientAddsARoute) {
  auto r = bed_->as(kAlice, {"/usr/bin/python3", "-c", R"PY(
import json, os, socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(os.environ["NETD_SOCKET"])
call = {"method": "io.netd.Routes.Add",
        "parameters": {"route": {"dst": "198.51.100.0/24", "gateway": "10.0.2.2", "dev": "uplink1"}}}
socket.send_fds(s, [json.dumps(call).encode() + b"\0"], [])
reply = b""
while not reply.endswith(b"\0"):
    reply += s.recv(4096)
print(reply[:-1].decode())
)PY"});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(json_of(r.out), nlohmann::json({{"parameters", nlohmann::json::object()}}));
  auto t = json_of(bed_->root({"ip", "-j", "route", "show", "table", "10007"}).out);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0]["dst"], "198.51.100.0/24");
}

TEST_F(Protocol, CApiAddsAndDeletesARoute) {
  auto add = bed_->as(kAlice, {C_CLIENT_PROBE, "add", "198.51.100.0/24", "10.0.2.2", "uplink1"});
  ASSERT_TRUE(add.ok()) << add.describe();
  EXPECT_EQ(add.out, "ok\n");
  EXPECT_EQ(json_of(bed_->root({"ip", "-j", "route", "show", "table", "10007"}).out).size(), 1u);
  // A refusal comes back as -errno with netd's reason.
  auto refused = bed_->as(kAlice, {C_CLIENT_PROBE, "add", "203.0.113.0/24", "10.0.2.2", "uplink1"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.out, HasSubstr("error 1 io.netd.PermissionDenied: 203.0.113.0/24 is outside"));
  auto del = bed_->as(kAlice, {C_CLIENT_PROBE, "del", "198.51.100.0/24", "10.0.2.2", "uplink1"});
  ASSERT_TRUE(del.ok()) << del.describe();
  EXPECT_EQ(bed_->root({"ip", "route", "show", "table", "10007"}).out, "");
}

TEST_F(Protocol, IntrospectionServesTheIdl) {
  auto client = Client::connect(bed_->socket_path());
  ASSERT_OK(client);
  auto info = client->call("org.varlink.service.GetInfo", nlohmann::json::object());
  ASSERT_OK(info);
  ASSERT_TRUE(info->ok()) << info->error;
  EXPECT_THAT(info->parameters["interfaces"].dump(), HasSubstr("io.netd.Routes"));
  auto idl = client->call("org.varlink.service.GetInterfaceDescription", {{"interface", "io.netd.Routes"}});
  ASSERT_OK(idl);
  ASSERT_TRUE(idl->ok()) << idl->error;
  EXPECT_THAT(idl->parameters["description"].get<std::string>(), HasSubstr("interface io.netd.Routes"));
  EXPECT_THAT(idl->parameters["description"].get<std::string>(), HasSubstr("method Add(route: Route"));
}

TEST_F(Protocol, IntrospectionRefusals) {
  auto client = Client::connect(bed_->socket_path());
  ASSERT_OK(client);
  auto unknown = client->call("org.varlink.service.GetInterfaceDescription", {{"interface", "io.netd.Nope"}});
  ASSERT_OK(unknown);
  EXPECT_EQ(unknown->error, "io.netd.NotFound");
  EXPECT_THAT(unknown->reason(), HasSubstr("no interface io.netd.Nope"));
  auto bad = client->call("org.varlink.service.GetInterfaceDescription", {{"interface", 7}});
  ASSERT_OK(bad);
  EXPECT_EQ(bad->error, "io.netd.InvalidArgument");
}

TEST_F(Protocol, AdminMethodsAreForAdmins) {
  // The test runs as root, admin in the testbed policy: reload works.
  auto client = Client::connect(bed_->socket_path());
  ASSERT_OK(client);
  auto reload = client->call("io.netd.Admin.Reload", nlohmann::json::object());
  ASSERT_OK(reload);
  EXPECT_TRUE(reload->ok()) << reload->error << " " << reload->reason();
  auto list = client->call("io.netd.Slices.List", nlohmann::json::object());
  ASSERT_OK(list);
  ASSERT_TRUE(list->ok()) << list->reason();
  EXPECT_EQ(list->parameters["slices"].size(), 2u);
  // A slice member is refused both.
  auto r = bed_->as(kAlice, {"/usr/bin/python3", "-c", R"PY(
import os, socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(os.environ["NETD_SOCKET"])
s.sendall(b'{"method":"io.netd.Admin.Reload","parameters":{}}\0')
reply = b""
while not reply.endswith(b"\0"):
    reply += s.recv(4096)
print(reply[:-1].decode())
)PY"});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_THAT(r.out, HasSubstr("io.netd.PermissionDenied"));
  EXPECT_THAT(r.out, HasSubstr("reloading the policy is for admins; uid 1001 is not one"));
}

TEST_F(Protocol, RepliesNeverExceedTheMessageLimit) {
  // 1500 IPv6 host routes (about 60 bytes each) make a listing of more than 64 KiB: netd refuses to send it rather
  // than send what its own clients would refuse.
  bed_->stop_netd();
  std::string text = bed_->policy_text({});
  text.replace(text.find("max_routes = 64"), 15, "max_routes = 2000");
  ASSERT_OK(bed_->write_policy(text));
  ASSERT_OK(bed_->start_netd());
  auto fill = bed_->as(kAlice, {"/usr/bin/python3", "-c", R"PY(
import json, os, socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(os.environ["NETD_SOCKET"])
for i in range(1500):
    call = {"method": "io.netd.Routes.Add",
            "parameters": {"route": {"dst": "2001:db8:100::%x/128" % (i + 1), "dev": "uplink1"}}}
    s.sendall(json.dumps(call).encode() + b"\0")
    reply = b""
    while not reply.endswith(b"\0"):
        reply += s.recv(4096)
    assert b"error" not in reply, reply
)PY"});
  ASSERT_TRUE(fill.ok()) << fill.describe();
  auto show = bed_->sliceip(kAlice, {"-6", "route", "show"});
  EXPECT_EQ(show.exit_code, 2) << show.describe().substr(0, 300);
  EXPECT_THAT(show.err, HasSubstr("the reply would exceed 65536 bytes"));
  auto one = bed_->sliceip(kAlice, {"-6", "route", "show", "2001:db8:100::5/128"});
  EXPECT_TRUE(one.ok()) << one.describe();
}

// Every method netd serves, found through introspection, checks who calls before what is
// sent: a non-member gets NotMember (the admin methods: PermissionDenied), a member sending an
// undeclared field gets InvalidArgument naming it. No method can skip either check.
constexpr const char* kEveryMethod = R"PY(
import json, os, re, socket
def call(method, params):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.environ["NETD_SOCKET"])
    s.sendall(json.dumps({"method": method, "parameters": params}).encode() + b"\0")
    reply = b""
    while not reply.endswith(b"\0"):
        chunk = s.recv(65536)
        if not chunk: break
        reply += chunk
    return json.loads(reply[:-1])
out = {}
for iface in call("org.varlink.service.GetInfo", {})["parameters"]["interfaces"]:
    if not iface.startswith("io.netd."): continue
    idl = call("org.varlink.service.GetInterfaceDescription", {"interface": iface})["parameters"]["description"]
    for name in re.findall(r"^method (\w+)", idl, re.M):
        r = call(iface + "." + name, {"bogus": 1})
        out[iface + "." + name] = [r.get("error", ""), r["parameters"].get("reason", "")]
print(json.dumps(out))
)PY";

TEST_F(Protocol, EveryMethodChecksTheCallerThenItsParameters) {
  auto carol = bed_->as(kCarol, {"/usr/bin/python3", "-c", kEveryMethod});
  ASSERT_TRUE(carol.ok()) << carol.describe();
  auto alice = bed_->as(kAlice, {"/usr/bin/python3", "-c", kEveryMethod});
  ASSERT_TRUE(alice.ok()) << alice.describe();
  auto as_carol = nlohmann::json::parse(carol.out);
  auto as_alice = nlohmann::json::parse(alice.out);
  EXPECT_GE(as_carol.size(), 24u) << carol.out;
  EXPECT_EQ(as_carol.size(), as_alice.size());
  for (const auto& [method, reply] : as_carol.items()) {
    SCOPED_TRACE(method);
    bool admin = method == "io.netd.Admin.Reload" || method == "io.netd.Admin.FleetStatus" ||
                 method == "io.netd.Slices.List";
    EXPECT_EQ(reply[0], admin ? "io.netd.PermissionDenied" : "io.netd.NotMember") << reply.dump();
    EXPECT_THAT(reply[1].get<std::string>(), HasSubstr(admin ? "is for admins; uid 1003" : "uid 1003 is not a member"));
    if (!admin) {
      EXPECT_EQ(as_alice[method][0], "io.netd.InvalidArgument") << as_alice[method].dump();
      EXPECT_EQ(as_alice[method][1], "unknown field 'bogus' in parameters");
    }
  }
}

TEST_F(Protocol, FdsWhereNoneAreExpectedAreRefused) {
  auto client = Client::connect(bed_->socket_path());
  ASSERT_OK(client);
  int fds[] = {0, 1};
  auto r = client->call("io.netd.Slices.Show", nlohmann::json::object(), fds);
  ASSERT_OK(r);
  EXPECT_EQ(r->error, "io.netd.InvalidArgument");
  EXPECT_THAT(r->reason(), HasSubstr("takes no file descriptors"));
  // Same connection keeps working.
  auto again = client->call("org.varlink.service.GetInfo", nlohmann::json::object());
  ASSERT_OK(again);
  EXPECT_TRUE(again->ok());
}

TEST_F(Protocol, AuditLineNamesWhoWhatAndVerdict) {
  ASSERT_TRUE(bed_->sliceip(kAlice, {"route", "add", "198.51.100.0/24", "via", "10.0.2.2"}).ok());
  (void)bed_->sliceip(kAlice, {"route", "add", "203.0.113.0/24", "via", "10.0.2.2"});
  auto out = bed_->stop_netd();
  EXPECT_THAT(out.err, ::testing::ContainsRegex(
                           "audit uid=1001 pid=[0-9]+ slice=alice method=io.netd.Routes.Add params=.*198.51.100.0/24.* "
                           "result=ok us=[0-9]+"));
  EXPECT_THAT(out.err, ::testing::ContainsRegex("slice=alice method=io.netd.Routes.Add .*"
                                                "result=io.netd.PermissionDenied errno=1 reason=.*outside"));
}

}  // namespace
}  // namespace netd::testing

namespace netd::testing {
namespace {

// The daemon's own command line (no namespace needed).
TEST(NetdCommandLine, CheckPolicyValidatesAndExplains) {
  char dir_template[] = "/tmp/netd-cli-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  std::string dir = dir_template;
  auto defaults = run_in(nullptr, {netd_binary(), "--print-default-policy"});
  ASSERT_TRUE(defaults.ok()) << defaults.describe();
  {
    std::ofstream(dir + "/good.toml") << defaults.out;
    std::ofstream(dir + "/bad.toml") << "[netd]\nmark_mask = 0x0fff0000\nbogus = 1\n";
  }
  auto good = run_in(nullptr, {netd_binary(), "--check-policy", dir + "/good.toml"});
  EXPECT_EQ(good.exit_code, 0) << good.describe();
  EXPECT_THAT(good.out, HasSubstr("valid"));
  EXPECT_THAT(good.out, HasSubstr("alice"));
  auto bad = run_in(nullptr, {netd_binary(), "--check-policy", dir + "/bad.toml"});
  EXPECT_EQ(bad.exit_code, 1) << bad.describe();
  EXPECT_THAT(bad.err, HasSubstr("bad.toml:3: netd.bogus: unknown key"));
  auto unknown = run_in(nullptr, {netd_binary(), "--frobnicate"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("unknown option '--frobnicate'"));
  if (geteuid() == 0) {
    auto unprivileged = run_as(kCarol, kCarol, nullptr, "", {netd_binary(), "--policy", dir + "/good.toml"});
    EXPECT_EQ(unprivileged.exit_code, 1) << unprivileged.describe();
    EXPECT_THAT(unprivileged.err, HasSubstr("must run as root"));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace netd::testing
