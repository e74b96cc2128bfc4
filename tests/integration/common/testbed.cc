#include "tests/integration/common/testbed.h"

#include <dirent.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/fixtures/eventually.h"
#include "tests/fixtures/files.h"
#include "tests/fixtures/json.h"
#include "tests/fixtures/veth.h"

namespace netd::testing {

namespace {

constexpr const char* kPython = "/usr/bin/python3";

// The peer's "remote server": answers each TCP connection with the address it came from.
constexpr const char* kPeerServer = R"PY(
import socket, threading, sys
def serve(family, addr):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, 8080))
    s.listen(128)
    while True:
        c, peer = s.accept()
        try:
            c.sendall(peer[0].encode())
        finally:
            c.close()
threading.Thread(target=serve, args=(socket.AF_INET6, "::"), daemon=True).start()
print("ready", flush=True)
serve(socket.AF_INET, "0.0.0.0")
)PY";

// Connects, prints what the server saw as our address.
constexpr const char* kConnectClient = R"PY(
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
print(s.recv(100).decode())
)PY";

bool can_connect(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

constexpr const char* kVarlinkClient = R"PY(
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(os.environ["NETD_SOCKET"])
for arg in sys.argv[1:]:
    call = json.loads(arg)
    fds = [0] * call.pop("_fds", 0)
    socket.send_fds(s, [json.dumps(call).encode() + b"\0"], fds)
    reply = b""
    while not reply.endswith(b"\0"):
        chunk, received, _, _ = socket.recv_fds(s, 65536, 16)
        for fd in received:
            os.close(fd)
        if not chunk:
            sys.exit("netd closed the connection")
        reply += chunk
    print(reply[:-1].decode(), flush=True)
)PY";

Status must(const ProcessResult& r, const std::string& what) {
  if (r.ok()) return ok_status();
  return make_error(EIO, what + ": " + r.describe());
}

}  // namespace

std::string netd_binary() { return NETD_BINARY; }
std::string sliceip_binary() { return SLICEIP_BINARY; }
std::string vtuntap_binary() { return VTUNTAP_BINARY; }

std::string Testbed::policy_text(const TestbedOptions& o) const {
  return "[netd]\n"
         "socket = \"" + socket_path_ + "\"\n"
         "state_dir = \"" + dir_ + "/state\"\n"
         "bpffs = \"" + bpffs_->path() + "/netd\"\n"
         "cgroup = \"" + cgroup_->path() + "\"\n"
         "mark_mask = 0x0fff0000\n"
         "raw_flag = 0x10000000\n"
         "table_base = 10000\n"
         "rule_priority = 1000\n"
         "uplinks = [\"uplink0\"]\n"
         "admins = [0]\n" + o.extra_netd +
         "\n[[slice]]\n"
         "name = \"alice\"\nid = 7\nuids = [1001]\n"
         "netblock = [\"10.7.0.0/24\", \"fd00:7::/64\"]\n"
         "route_devices = [\"uplink0\", \"uplink1\"]\n"
         "route_prefixes = [\"198.51.100.0/24\", \"2001:db8:100::/48\"]\n"
         "max_routes = 64\n" + o.extra_alice +
         "\n[[slice]]\n"
         "name = \"bob\"\nid = 8\nuids = [1002]\n"
         "netblock = [\"10.8.0.0/24\", \"fd00:8::/64\"]\n"
         "route_devices = [\"uplink0\", \"uplink1\"]\n"
         "route_prefixes = [\"198.51.100.0/24\", \"2001:db8:100::/48\"]\n"
         "max_routes = 64\n" + o.extra_bob;
}

Status Testbed::write_policy(const std::string& toml) {
  std::string tmp = policy_path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << toml;
    if (!out.good()) return make_error(EIO, "writing " + tmp);
  }
  if (rename(tmp.c_str(), policy_path_.c_str()) < 0) return errno_error("rename " + tmp);
  return ok_status();
}

Result<Testbed> Testbed::create(const TestbedOptions& options) {
  Testbed t;
  NETD_ASSIGN_OR_RETURN(auto host, Netns::create());
  t.host_.emplace(std::move(host));
  NETD_ASSIGN_OR_RETURN(auto peer, Netns::create());
  t.peer_.emplace(std::move(peer));
  NETD_ASSIGN_OR_RETURN(auto cgroup, TestCgroup::create());
  t.cgroup_.emplace(std::move(cgroup));
  NETD_ASSIGN_OR_RETURN(auto bpffs, TestBpffsDir::create());
  t.bpffs_.emplace(std::move(bpffs));

  char dir_template[] = "/tmp/netd-test-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) return errno_error("mkdtemp");
  t.dir_ = dir_template;
  chmod(t.dir_.c_str(), 0755);  // unprivileged clients must reach the socket inside
  t.socket_path_ = t.dir_ + "/netd.sock";
  t.policy_path_ = t.dir_ + "/policy.toml";

  NETD_TRY(add_veth_pair({&*t.host_, "uplink0", "10.0.1.1/24"}, {&*t.peer_, "peer0", "10.0.1.2/24"}));
  NETD_TRY(add_veth_pair({&*t.host_, "uplink1", "10.0.2.1/24"}, {&*t.peer_, "peer1", "10.0.2.2/24"}));
  // IPv6 without DAD delays, so addresses are usable at once.
  for (const auto& [ns, dev, addr] : std::vector<std::tuple<const Netns*, std::string, std::string>>{
           {&*t.host_, "uplink0", "fd00:1::1/64"}, {&*t.host_, "uplink1", "fd00:2::1/64"},
           {&*t.peer_, "peer0", "fd00:1::2/64"}, {&*t.peer_, "peer1", "fd00:2::2/64"}})
    NETD_TRY(must(run_in(ns, {"ip", "-6", "addr", "add", addr, "dev", dev, "nodad"}), "adding " + addr));
  NETD_TRY(must(t.root({"ip", "route", "add", "default", "via", "10.0.1.2", "dev", "uplink0"}), "default route"));
  NETD_TRY(must(t.root({"ip", "-6", "route", "add", "default", "via", "fd00:1::2", "dev", "uplink0"}), "v6 default"));
  NETD_TRY(must(t.in_peer({"ip", "addr", "add", "198.51.100.7/32", "dev", "lo"}), "peer server address"));
  NETD_TRY(must(t.in_peer({"ip", "addr", "add", "2001:db8:100::7/128", "dev", "lo"}), "peer server v6 address"));
  // Strict reverse-path filtering on the peer: a packet arrives only through the uplink whose
  // subnet its source is in, so "connected with source 10.0.2.1" proves it left via uplink1.
  NETD_TRY(t.peer_->set_sysctl("net.ipv4.conf.all.rp_filter", "1"));
  NETD_TRY(t.peer_->set_sysctl("net.ipv4.conf.peer0.rp_filter", "1"));
  NETD_TRY(t.peer_->set_sysctl("net.ipv4.conf.peer1.rp_filter", "1"));
  // Unprivileged ICMP echo (ping sockets) for every gid, in the host netns only.
  NETD_TRY(t.host_->set_sysctl("net.ipv4.ping_group_range", "0 2147483647"));

  NETD_ASSIGN_OR_RETURN(auto server, spawn_in(&*t.peer_, {kPython, "-c", kPeerServer}));
  t.peer_server_.emplace(std::move(server));
  if (t.peer_server_->read_line() != std::optional<std::string>("ready"))
    return make_error(EIO, "the peer's server did not start");

  NETD_TRY(t.write_policy(t.policy_text(options)));
  t.netd_wrapper_ = options.netd_wrapper;
  t.netd_args_ = options.netd_args;
  t.netd_in_cgroup_ = options.netd_in_cgroup;
  if (options.start_netd) NETD_TRY(t.start_netd());
  return t;
}

// Moving leaves the source empty (std::optional's move keeps the source engaged, and the
// source's destructor must not stop the netd the new owner now runs).
Testbed::Testbed(Testbed&& o) noexcept
    : host_(std::exchange(o.host_, std::nullopt)),
      peer_(std::exchange(o.peer_, std::nullopt)),
      cgroup_(std::exchange(o.cgroup_, std::nullopt)),
      bpffs_(std::exchange(o.bpffs_, std::nullopt)),
      dir_(std::exchange(o.dir_, {})),
      socket_path_(std::exchange(o.socket_path_, {})),
      policy_path_(std::exchange(o.policy_path_, {})),
      netd_wrapper_(std::exchange(o.netd_wrapper_, {})),
      netd_args_(std::exchange(o.netd_args_, {})),
      netd_in_cgroup_(o.netd_in_cgroup_),
      netd_(std::exchange(o.netd_, std::nullopt)),
      peer_server_(std::exchange(o.peer_server_, std::nullopt)) {}

Testbed::~Testbed() {
  if (netd_) {
    (void)netd_->kill(SIGTERM);
    netd_->wait(std::chrono::seconds(10));
    netd_.reset();
  }
  // What netd left in the kernel outside the namespaces (the cgroup program's pins) goes
  // with the bpffs dir and the cgroup; the namespaces take routes, rules and nft with them.
  if (!dir_.empty()) (void)remove_tree(dir_);
}

Status Testbed::launch_netd() {
  // netd's stderr (the audit log) goes to a file: a pipe nobody drains would fill and stall it.
  std::vector<std::string> argv = {"/bin/sh", "-c", "log=$1; shift; exec \"$@\" 2>>\"$log\"", "sh", log_path()};
  argv.insert(argv.end(), netd_wrapper_.begin(), netd_wrapper_.end());
  argv.insert(argv.end(), {netd_binary(), "--policy", policy_path_, "--foreground"});
  argv.insert(argv.end(), netd_args_.begin(), netd_args_.end());
  NETD_ASSIGN_OR_RETURN(auto child, ChildProcess::spawn(SpawnSpec{.uid = std::nullopt, .gid = 0, .netns = &*host_,
                                                                  .cgroup_path = netd_in_cgroup_ ? cgroup_->path() : "",
                                                                  .argv = argv}));
  netd_.emplace(std::move(child));
  return ok_status();
}

Status Testbed::start_netd() {
  NETD_TRY(launch_netd());
  // Listening means netd is up: it binds its socket only once the kernel state is in line
  // with the policy.
  bool exited = false;
  if (eventually([&] { return can_connect(socket_path_) || (exited = netd_->exited()); }, std::chrono::seconds(60)) &&
      !exited)
    return ok_status();
  auto result = netd_->wait(std::chrono::seconds(1));
  netd_.reset();
  return make_error(EIO, "netd did not start: " + result.describe() + " log: " + netd_log());
}

void Testbed::kill_netd(int sig) {
  if (!netd_) return;
  (void)netd_->kill(sig);
  netd_->wait(std::chrono::seconds(10));
  netd_.reset();
}

ProcessResult Testbed::stop_netd() {
  if (!netd_) return {};
  (void)netd_->kill(SIGTERM);
  ProcessResult r = netd_->wait(std::chrono::seconds(10));
  netd_.reset();
  r.err = netd_log();
  return r;
}

std::string Testbed::log_path() const { return dir_ + "/netd.log"; }

std::string Testbed::netd_log() const {
  auto text = read_text_file(log_path());
  return text.ok() ? *text : "";
}

pid_t Testbed::netd_pid() const { return netd_ ? netd_->pid() : -1; }

namespace {

// The outcome lines of SIGHUP reloads in netd's log, in order.
std::vector<std::string> reload_outcomes(const std::string& log) {
  std::vector<std::string> out;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("netd: reloaded ", 0) == 0 || line.rfind("netd: reloading ", 0) == 0) out.push_back(line);
  return out;
}

}  // namespace

Result<std::string> Testbed::reload_netd() {
  if (!netd_) return make_error(ESRCH, "netd is not running");
  size_t before = reload_outcomes(netd_log()).size();
  if (::kill(netd_->pid(), SIGHUP) != 0) return errno_error("kill SIGHUP");
  std::vector<std::string> outcomes;
  if (!eventually([&] { return (outcomes = reload_outcomes(netd_log())).size() > before; }))
    return make_error(ETIMEDOUT, "netd logged no reload outcome after SIGHUP; log: " + netd_log());
  return outcomes[before];
}

size_t Testbed::netd_fds() const {
  size_t n = 0;
  std::string dir = "/proc/" + std::to_string(netd_pid()) + "/fd";
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++n;
    closedir(d);
  }
  return n;
}

size_t Testbed::netd_connections() const {
  // /proc/PID/net/unix lists the unix sockets of netd's netns: "Num RefCount Protocol Flags
  // Type St Inode Path". Accepted sockets carry the listener's path, and only netd accepts on
  // it; St 03 is SS_CONNECTED (the listener itself is 01).
  auto table = read_text_file("/proc/" + std::to_string(netd_pid()) + "/net/unix");
  if (!table.ok()) return 0;
  size_t n = 0;
  std::istringstream in(*table);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string num, refs, proto, flags, type, state, inode, path;
    if (fields >> num >> refs >> proto >> flags >> type >> state >> inode >> path && path == socket_path_ &&
        state == "03")
      ++n;
  }
  return n;
}

ProcessResult Testbed::as(uid_t uid, std::vector<std::string> argv) const {
  argv.insert(argv.begin(), {"env", "NETD_SOCKET=" + socket_path_});
  return run_as(uid, uid, &*host_, cgroup_->path(), argv);
}

ProcessResult Testbed::sliceip(uid_t uid, std::vector<std::string> args) const {
  args.insert(args.begin(), sliceip_binary());
  return as(uid, args);
}

ProcessResult Testbed::vtuntap(uid_t uid, std::vector<std::string> args) const {
  args.insert(args.begin(), vtuntap_binary());
  return as(uid, args);
}

Result<ChildProcess> Testbed::spawn_as(uid_t uid, std::vector<std::string> argv) const {
  argv.insert(argv.begin(), {"env", "NETD_SOCKET=" + socket_path_});
  return testing::spawn_as(uid, uid, &*host_, cgroup_->path(), argv);
}

std::vector<nlohmann::json> Testbed::varlink(uid_t uid, const std::vector<nlohmann::json>& calls) const {
  std::vector<std::string> argv = {kPython, "-c", kVarlinkClient};
  for (const auto& c : calls) argv.push_back(c.dump());
  auto r = as(uid, argv);
  std::vector<nlohmann::json> replies;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) replies.push_back(json_of(line));
  replies.resize(calls.size());
  return replies;
}

ProcessResult Testbed::root(std::vector<std::string> argv) const { return run_in(&*host_, argv); }
ProcessResult Testbed::in_peer(std::vector<std::string> argv) const { return run_in(&*peer_, argv); }
Result<ChildProcess> Testbed::spawn_in_peer(std::vector<std::string> argv) const { return spawn_in(&*peer_, argv); }

std::string Testbed::routing_state() const {
  std::string state;
  for (const char* family : {"-4", "-6"}) {
    auto routes = json_of(root({"ip", "-j", family, "route", "show", "table", "all"}).out);
    if (routes.is_array())
      for (const auto& r : routes)
        if (r.value("table", "") != "local") state += r.dump() + "\n";
    state += root({"ip", "-j", family, "rule", "show"}).out;
  }
  return state;
}

nlohmann::json Testbed::netd_rules(const std::string& family) const {
  auto all = json_of(root({"ip", "-j", family, "rule", "show"}).out);
  nlohmann::json out = nlohmann::json::array();
  if (all.is_array())
    for (const auto& r : all)
      if (r.value("priority", 0u) >= 1000 && r.value("priority", 0u) < 32766) out.push_back(r);
  return out;
}

nlohmann::json Testbed::slice_rules(const std::string& family) const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : netd_rules(family)) {
    const std::string table = r.value("table", "");
    if (table.size() == 5 && table.find_first_not_of("0123456789") == std::string::npos && table > "10000" &&
        table <= "14095")
      out.push_back(r);
  }
  return out;
}

std::string Testbed::connect_source(uid_t uid, const std::string& addr) const {
  auto r = as(uid, {kPython, "-c", kConnectClient, addr, "8080"});
  if (!r.ok()) return "";
  std::string out = r.out;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace netd::testing
