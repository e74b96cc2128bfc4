// [netd] idle_timeout, request_timeout and max_connections as clients see them: idle, half-sent and
// unread connections are closed and logged, busy ones are not; the global cap refuses the next
// connection with its reason, logs a flood once, spares admins; a reload applies to open connections.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <sstream>

#include "lib/client/client.h"
#include "tests/fixtures/eventually.h"
#include "tests/fixtures/json.h"
#include "tests/integration/common/testbed_test.h"

namespace netd::testing {
namespace {

using ::testing::HasSubstr;

// Helpers every client script below starts with.
constexpr const char* kClientLib = R"PY(
import json, os, select, socket, sys, time
def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.environ["NETD_SOCKET"])
    return s
def request(method, params={}):
    return json.dumps({"method": method, "parameters": params}).encode() + b"\0"
def call(s, method, params={}):
    s.sendall(request(method, params))
    reply = b""
    while not reply.endswith(b"\0"):
        chunk = s.recv(65536)
        if not chunk: raise EOFError("netd closed the connection")
        reply += chunk
    return json.loads(reply[:-1])
def wait_eof(s, bound):
    """What came before netd closed s, and how long after the call; None if it stayed open `bound` s."""
    s.setblocking(True)
    s.settimeout(bound)
    data, t0 = b"", time.monotonic()
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk: break
            data += chunk
    except socket.timeout:
        return None
    except ConnectionResetError:
        pass
    return {"data": data.rstrip(b"\0").decode(errors="replace"), "after": time.monotonic() - t0}
)PY";

std::string script(const std::string& body) { return std::string(kClientLib) + body; }

// netd's audit lines about connections it refused or closed.
std::vector<std::string> connection_lines(const std::string& log, const std::string& event) {
  std::vector<std::string> out;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("audit ", 0) == 0 && line.find(" connection=" + event + " ") != std::string::npos)
      out.push_back(line);
  return out;
}

// The refusals the log lines stand for (a line without count= is one).
uint64_t refusals_logged(const std::string& log) {
  uint64_t total = 0;
  for (const auto& line : connection_lines(log, "refused")) {
    auto at = line.find(" count=");
    total += at == std::string::npos ? 1 : std::stoull(line.substr(at + 7));
  }
  return total;
}

class ConnectionTimeouts : public TestbedTest {
 protected:
  // The request clock starts after the idle one (at the first byte, not at accept): a longer
  // idle timeout lets the half-sent requests below meet request_timeout first.
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_netd = "idle_timeout = 2\nrequest_timeout = \"1s\"\n";
    return o;
  }

  // Waits until netd logged a close with this reason, and returns that line.
  std::string closed_line(const std::string& reason) {
    std::string found;
    eventually([&] {
      for (const auto& line : connection_lines(bed_->netd_log(), "closed"))
        if (line.find(reason) != std::string::npos) return !(found = line).empty();
      return false;
    });
    return found;
  }
};

TEST_F(ConnectionTimeouts, IdleConnectionIsClosedWhileABusyOneIsNot) {
  // Two connections open together: one makes a request and then nothing, the other keeps
  // making requests. The idle one's EOF is the event; the busy one must outlive it, served.
  auto r = bed_->as(kAlice, {"/usr/bin/python3", "-c", script(R"PY(
busy, idle = connect(), connect()
call(busy, "io.netd.Slices.Show")
call(idle, "io.netd.Slices.Show")
t0, served = time.monotonic(), 0
while not select.select([idle], [], [], 0.05)[0] and time.monotonic() - t0 < 60:
    served += "error" not in call(busy, "io.netd.Slices.Show")
closed = wait_eof(idle, 0.001)
after = call(busy, "io.netd.Slices.Show")
print(json.dumps({"pid": os.getpid(), "idle": closed, "waited": time.monotonic() - t0, "served": served,
                  "busy_after": "error" not in after}))
)PY")});
  ASSERT_TRUE(r.ok()) << r.describe();
  auto out = json_of(r.out);
  ASSERT_FALSE(out["idle"].is_null()) << "the idle connection stayed open: " << r.out;
  EXPECT_EQ(out["idle"]["data"], "") << "an idle close sends nothing (no request is waiting for a reply)";
  // (Well below 2 s: the client starts its clock after netd started its own, a loaded host may
  // take a while between the two.)
  EXPECT_GE(out["waited"].get<double>(), 1.0) << "closed long before idle_timeout";
  EXPECT_GT(out["served"].get<int>(), 0);
  EXPECT_TRUE(out["busy_after"].get<bool>()) << r.out;

  std::string line = closed_line("(idle_timeout)");
  EXPECT_THAT(line, HasSubstr("audit uid=1001 pid=" + std::to_string(out["pid"].get<int>()) +
                              " connection=closed reason=\"no complete request for 2s (idle_timeout)\""));
  EXPECT_EQ(connection_lines(bed_->netd_log(), "closed").size(), 1u) << bed_->netd_log();
  EXPECT_TRUE(eventually([&] { return bed_->netd_connections() == 0; })) << bed_->netd_connections();
}

TEST_F(ConnectionTimeouts, HalfSentRequestIsClosedAfterRequestTimeoutEvenIfBytesTrickleIn) {
  auto r = bed_->as(kAlice, {"/usr/bin/python3", "-c", script(R"PY(
half, trickle = connect(), connect()
half.sendall(b'{"method":"io.netd.Slices.Show","param')
trickle.sendall(b'{"method":"io.netd.Slices.Show","parameters":{')
t0 = time.monotonic()
# A space every 50 ms: bytes keep coming, the request never ends.
while not select.select([trickle], [], [], 0.05)[0] and time.monotonic() - t0 < 60:
    try:
        trickle.send(b" ")
    except OSError:
        break
trickled = wait_eof(trickle, 60)
if trickled: trickled["after"] = time.monotonic() - t0
print(json.dumps({"pid": os.getpid(), "half": wait_eof(half, 60), "trickle": trickled}))
)PY")});
  ASSERT_TRUE(r.ok()) << r.describe();
  auto out = json_of(r.out);
  for (const char* which : {"half", "trickle"}) {
    SCOPED_TRACE(which);
    ASSERT_FALSE(out[which].is_null()) << r.out;
    auto reply = json_of(out[which]["data"].get<std::string>());
    EXPECT_EQ(reply["error"], "io.netd.InvalidArgument");
    EXPECT_EQ(reply["parameters"]["reason"],
              "incomplete request: the rest of it did not come within 1s (request_timeout)");
    EXPECT_EQ(reply["parameters"]["errno"], ETIMEDOUT);
  }
  // Had the trickle restarted the request clock, idle_timeout would have closed it, without a reply.
  EXPECT_GE(out["trickle"]["after"].get<double>(), 0.5) << "closed long before request_timeout";
  closed_line("(request_timeout)");
  EXPECT_TRUE(eventually([&] { return connection_lines(bed_->netd_log(), "closed").size() == 2; }));
  for (const auto& line : connection_lines(bed_->netd_log(), "closed"))
    EXPECT_THAT(line, HasSubstr("audit uid=1001 pid=" + std::to_string(out["pid"].get<int>()) +
                                " connection=closed reason=\"incomplete request"));
  EXPECT_TRUE(eventually([&] { return bed_->netd_connections() == 0; }));
}

TEST_F(ConnectionTimeouts, ClientThatDoesNotReadItsRepliesIsClosed) {
  // Replies well beyond what netd's socket buffers (net.core.wmem_default) and below the 1 MiB
  // netd keeps for a client at most: netd holds the rest, and the client never takes it.
  auto client = bed_->spawn_as(kAlice, {"/usr/bin/python3", "-c", script(R"PY(
target = int(open("/proc/sys/net/core/wmem_default").read()) + 300000
if target > 1000000:
    print("wmem_default leaves no room below netd's 1 MiB output cap", flush=True)
    sys.exit(0)
s = connect()
params = {"interface": "io.netd.Routes"}
size = len(json.dumps(call(s, "org.varlink.service.GetInterfaceDescription", params))) + 1
s.sendall(request("org.varlink.service.GetInterfaceDescription", params) * (target // size))
print("sent", flush=True)
sys.stdin.read()
)PY")});
  ASSERT_OK(client);
  auto sent = client->read_line(std::chrono::seconds(30));
  if (sent && sent->find("wmem_default") == 0) GTEST_SKIP() << *sent;
  ASSERT_EQ(sent, std::optional<std::string>("sent"));
  std::string line = closed_line("(request_timeout)");
  EXPECT_THAT(line, HasSubstr("audit uid=1001 pid=" + std::to_string(client->pid()) +
                              " connection=closed reason=\"replies not read for 1s (request_timeout)\""));
  // Closed while the client still holds its end.
  EXPECT_TRUE(eventually([&] { return bed_->netd_connections() == 0; }));
  EXPECT_FALSE(client->exited());
  client->close_stdin();
  EXPECT_TRUE(client->wait().ok());
}

class ConnectionCap : public TestbedTest {
 protected:
  static constexpr const char* kNetd = "max_connections = 4\n";
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.extra_netd = kNetd;
    return o;
  }
};

TEST_F(ConnectionCap, FullCapRefusesOtherUidsWithTheReasonLogsAFloodOnceAndSparesAdmins) {
  // alice holds 4 served connections: the cap of all non-admin uids together.
  auto holder = bed_->spawn_as(kAlice, {"/usr/bin/python3", "-c", script(R"PY(
conns = [connect() for _ in range(4)]
print(sum("error" not in call(s, "io.netd.Slices.Show") for s in conns), flush=True)
sys.stdin.read()
)PY")});
  ASSERT_OK(holder);
  ASSERT_EQ(holder->read_line(std::chrono::seconds(30)), std::optional<std::string>("4"));

  // bob (under his own per-uid cap of 64) floods: every connection is answered and closed.
  auto flood = bed_->as(kBob, {"/usr/bin/python3", "-c", script(R"PY(
print(json.dumps([wait_eof(connect(), 60) for _ in range(20)]))
)PY")});
  ASSERT_TRUE(flood.ok()) << flood.describe();
  auto answers = json_of(flood.out);
  ASSERT_EQ(answers.size(), 20u);
  for (const auto& a : answers) {
    ASSERT_FALSE(a.is_null()) << "a refused connection stayed open";
    auto reply = json_of(a["data"].get<std::string>());
    EXPECT_EQ(reply["error"], "io.netd.ResourceExhausted");
    EXPECT_EQ(reply["parameters"]["reason"],
              "netd holds its maximum of 4 connections from non-admin users (max_connections); try again later");
    EXPECT_EQ(reply["parameters"]["errno"], EUSERS);
  }
  auto bob = bed_->sliceip(kBob, {"slice", "show"});
  EXPECT_EQ(bob.exit_code, 2) << bob.describe();
  EXPECT_THAT(bob.err, HasSubstr("(max_connections)"));

  {
    // Admins take no one's slot and are never refused.
    auto admin = Client::connect(bed_->socket_path());
    ASSERT_OK(admin);
    auto info = admin->call("org.varlink.service.GetInfo", nlohmann::json::object());
    ASSERT_OK(info);
    EXPECT_TRUE(info->ok()) << info->error;
  }

  // 21 refusals, logged as a few lines (the first at once, the rest counted together).
  EXPECT_TRUE(eventually([&] { return refusals_logged(bed_->netd_log()) == 21; })) << bed_->netd_log();
  auto refused = connection_lines(bed_->netd_log(), "refused");
  EXPECT_LT(refused.size(), 21u);
  EXPECT_THAT(refused.at(0), HasSubstr("audit uid=1002 pid="));
  EXPECT_THAT(refused.at(0), HasSubstr("connection=refused reason=\"netd holds its maximum of 4 connections"));

  // alice lets go: netd holds no connection, and bob is served again.
  holder->close_stdin();
  EXPECT_TRUE(holder->wait().ok());
  EXPECT_TRUE(eventually([&] { return bed_->netd_connections() == 0; })) << bed_->netd_connections();
  auto again = bed_->sliceip(kBob, {"slice", "show"});
  EXPECT_TRUE(again.ok()) << again.describe();
}

TEST_F(ConnectionCap, ReloadAppliesANewIdleTimeoutToOpenConnections) {
  // Under the default idle_timeout (300 s) a connection waits; a reload to 1 s closes it.
  auto client = bed_->spawn_as(kAlice, {"/usr/bin/python3", "-c", script(R"PY(
s = connect()
call(s, "io.netd.Slices.Show")
print("ready", flush=True)
print("eof" if wait_eof(s, 60) is not None else "open", flush=True)
)PY")});
  ASSERT_OK(client);
  ASSERT_EQ(client->read_line(std::chrono::seconds(30)), std::optional<std::string>("ready"));
  TestbedOptions shorter;
  shorter.extra_netd = std::string(kNetd) + "idle_timeout = 1\n";
  ASSERT_OK(bed_->write_policy(bed_->policy_text(shorter)));
  auto outcome = bed_->reload_netd();
  ASSERT_OK(outcome);
  EXPECT_THAT(*outcome, HasSubstr("netd: reloaded"));
  EXPECT_EQ(client->read_line(std::chrono::seconds(60)), std::optional<std::string>("eof"));
  EXPECT_THAT(bed_->netd_log(), HasSubstr("connection=closed reason=\"no complete request for 1s (idle_timeout)\""));
  EXPECT_TRUE(client->wait().ok());
}

using ConnectionFds = TestbedTest;

TEST_F(ConnectionFds, OutOfFdsTheNextConnectionIsAnsweredAndLogged) {
  // netd left with 5 free fds: connections are served until accept() fails with EMFILE, then each
  // one more is taken with netd's spare fd, answered and closed.
  pid_t pid = bed_->netd_pid();
  rlimit old{};
  ASSERT_EQ(prlimit(pid, RLIMIT_NOFILE, nullptr, &old), 0);
  rlimit tight{bed_->netd_fds() + 5, old.rlim_max};
  ASSERT_EQ(prlimit(pid, RLIMIT_NOFILE, &tight, nullptr), 0);
  auto r = bed_->as(kAlice, {"/usr/bin/python3", "-c", script(R"PY(
held, answers = [], []
for _ in range(10):
    s = connect()
    try:
        s.sendall(request("org.varlink.service.GetInfo"))
    except OSError:
        pass  # refused and closed already: its answer is still to be read
    reply = b""
    while not reply.endswith(b"\0"):
        chunk = s.recv(65536)
        if not chunk: break
        reply += chunk
    answers.append(json.loads(reply[:-1]))
    held.append(s)
print(json.dumps(answers))
)PY")});
  ASSERT_EQ(prlimit(pid, RLIMIT_NOFILE, &old, nullptr), 0);
  ASSERT_TRUE(r.ok()) << r.describe() << "\nnetd: " << bed_->netd_log();
  auto answers = json_of(r.out);
  ASSERT_EQ(answers.size(), 10u);
  size_t served = 0;
  while (served < answers.size() && !answers[served].contains("error")) ++served;
  EXPECT_GE(served, 1u) << r.out;
  EXPECT_LT(served, answers.size()) << r.out;
  for (size_t i = served; i < answers.size(); ++i) {
    EXPECT_EQ(answers[i]["error"], "io.netd.ResourceExhausted") << r.out;
    EXPECT_EQ(answers[i]["parameters"]["reason"], "netd is out of file descriptors (RLIMIT_NOFILE); try again later");
  }
  EXPECT_THAT(connection_lines(bed_->netd_log(), "refused").at(0),
              HasSubstr("audit uid=1001 pid=" /* the client */));
  EXPECT_TRUE(eventually([&] { return bed_->netd_connections() == 0; }));
  auto again = bed_->sliceip(kAlice, {"slice", "show"});
  EXPECT_TRUE(again.ok()) << again.describe();
}

}  // namespace
}  // namespace netd::testing
