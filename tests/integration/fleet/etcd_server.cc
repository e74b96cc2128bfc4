#include "tests/integration/fleet/etcd_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "lib/core/unique_fd.h"
#include "tests/fixtures/eventually.h"
#include "tests/fixtures/files.h"
#include "tests/fixtures/unique_name.h"

namespace netd::testing {

namespace {

constexpr const char* kEtcd = "/usr/bin/etcd";
constexpr const char* kEtcdctl = "/usr/bin/etcdctl";

// Ports the kernel hands out for bind(0) on 127.0.0.1, all held open until every one is chosen
// so no two are the same. Another process could still take one before etcd binds it: launch()
// then fails visibly (etcd exits) rather than the test talking to a stranger.
Result<std::vector<int>> free_ports(size_t count) {
  std::vector<UniqueFd> held;
  std::vector<int> ports;
  while (ports.size() < count) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return errno_error("socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return errno_error("bind");
    socklen_t len = sizeof addr;
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) < 0) return errno_error("getsockname");
    int port = ntohs(addr.sin_port);
    if (port != 2379 && port != 2380) ports.push_back(port);  // the packaged service's ports
    held.push_back(std::move(fd));
  }
  return ports;
}

// GET /health over plain HTTP/1.0 on the member's metrics listener (plain http even when the
// client URLs are https): true when etcd answers {"health":"true"} (it has a leader and served
// a read). Independent of the client under test.
bool health_ok(int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return false;
  timeval tv{1, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return false;
  const std::string request = "GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::write(fd.get(), request.data(), request.size()) != static_cast<ssize_t>(request.size())) return false;
  std::string reply;
  char buf[1024];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) reply.append(buf, static_cast<size_t>(n));
  return reply.find("\"health\":\"true\"") != std::string::npos;
}

std::string url(int port, bool tls = false) {
  return (tls ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port);
}

}  // namespace

Result<EtcdCluster> EtcdCluster::start(const EtcdClusterSpec& spec) {
  EtcdCluster cluster;
  cluster.spec_ = spec;
  char root[] = "/tmp/netd-etcd-XXXXXX";
  if (::mkdtemp(root) == nullptr) return errno_error("mkdtemp");
  cluster.root_ = root;
  cluster.token_ = unique_test_name("etcd-t");
  NETD_ASSIGN_OR_RETURN(std::vector<int> ports, free_ports(3 * static_cast<size_t>(spec.members)));
  for (int i = 0; i < spec.members; ++i) {
    Member m;
    m.name = "m" + std::to_string(i);
    m.client_port = ports[3 * i];
    m.peer_port = ports[3 * i + 1];
    m.metrics_port = ports[3 * i + 2];
    m.data_dir = cluster.root_ + "/" + m.name;
    cluster.members_.push_back(m);
  }
  for (size_t i = 0; i < cluster.members_.size(); ++i) NETD_TRY(cluster.launch(i, false));
  // A cluster elects its leader once a majority is up: the members become healthy together.
  for (size_t i = 0; i < cluster.members_.size(); ++i) NETD_TRY(cluster.wait_healthy(i, std::chrono::seconds(30)));
  return cluster;
}

EtcdCluster::EtcdCluster(EtcdCluster&& other) noexcept
    : spec_(std::move(other.spec_)), root_(std::move(other.root_)), token_(std::move(other.token_)),
      members_(std::move(other.members_)) {
  other.members_.clear();
  other.root_.clear();
}

EtcdCluster::~EtcdCluster() {
  for (size_t i = 0; i < members_.size(); ++i) (void)kill(i);
  if (!root_.empty() && std::getenv("NETD_KEEP_ETCD_DATA") == nullptr) (void)remove_tree(root_);
}

std::string EtcdCluster::endpoint(size_t i) const { return url(members_[i].client_port, !spec_.tls_dir.empty()); }

std::vector<std::string> EtcdCluster::endpoints() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < members_.size(); ++i) out.push_back(endpoint(i));
  return out;
}

std::string EtcdCluster::endpoints_csv() const {
  std::string csv;
  for (const std::string& e : endpoints()) csv += (csv.empty() ? "" : ",") + e;
  return csv;
}

std::vector<std::string> EtcdCluster::running_endpoints() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < members_.size(); ++i) {
    if (running(i)) out.push_back(endpoint(i));
  }
  return out;
}

Status EtcdCluster::launch(size_t i, bool existing) {
  Member& m = members_[i];
  std::string initial_cluster;
  for (const Member& o : members_) initial_cluster += (initial_cluster.empty() ? "" : ",") + o.name + "=" + url(o.peer_port);
  std::vector<std::string> argv = {kEtcd,
                                   "--name=" + m.name,
                                   "--data-dir=" + m.data_dir,
                                   "--listen-client-urls=" + endpoint(i),
                                   "--advertise-client-urls=" + endpoint(i),
                                   "--listen-metrics-urls=" + url(m.metrics_port),
                                   "--listen-peer-urls=" + url(m.peer_port),
                                   "--initial-advertise-peer-urls=" + url(m.peer_port),
                                   "--initial-cluster=" + initial_cluster,
                                   "--initial-cluster-token=" + token_,
                                   std::string("--initial-cluster-state=") + (existing ? "existing" : "new"),
                                   "--logger=zap",
                                   "--experimental-watch-progress-notify-interval=" +
                                       std::to_string(spec_.progress_notify_interval.count()) + "ms"};
  if (!spec_.tls_dir.empty()) {
    for (std::string flag : {"--cert-file=/server.pem", "--key-file=/server.key", "--trusted-ca-file=/ca.pem"}) {
      size_t eq = flag.find('=') + 1;
      argv.push_back(flag.insert(eq, spec_.tls_dir));
    }
    argv.push_back("--client-cert-auth");
  }
  argv.insert(argv.end(), spec_.extra_args.begin(), spec_.extra_args.end());
  std::vector<char*> cargv;
  for (std::string& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  const std::string log = root_ + "/" + m.name + ".log";
  UniqueFd log_fd(::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!log_fd.valid()) return errno_error("open " + log);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return errno_error("fork");
  if (pid == 0) {  // only async-signal-safe calls until exec
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a test killed by its timeout takes etcd with it
    if (::getppid() != parent) ::_exit(127);
    ::dup2(log_fd.get(), STDOUT_FILENO);
    ::dup2(log_fd.get(), STDERR_FILENO);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::execv(kEtcd, cargv.data());
    ::_exit(127);
  }
  m.pid = pid;
  return ok_status();
}

Status EtcdCluster::wait_healthy(size_t i, std::chrono::milliseconds timeout) {
  Member& m = members_[i];
  bool exited = false;
  // Until /health answers or the process is gone (the timeout only bounds a failure).
  const bool healthy = eventually(
      [&] {
        int status;
        exited = m.pid > 0 && ::waitpid(m.pid, &status, WNOHANG) == m.pid;
        return exited || health_ok(m.metrics_port);
      },
      timeout, std::chrono::milliseconds(20));
  if (exited) {
    m.pid = -1;
    return make_error(EIO, "etcd " + m.name + " exited before it was healthy; see " + root_ + "/" + m.name + ".log");
  }
  if (!healthy)
    return make_error(ETIMEDOUT, "etcd " + m.name + " not healthy on " + endpoint(i) + " in time; see " + root_ +
                                     "/" + m.name + ".log");
  return ok_status();
}

Status EtcdCluster::kill(size_t i) {
  Member& m = members_[i];
  if (m.pid <= 0) return ok_status();
  if (::kill(m.pid, SIGKILL) < 0 && errno != ESRCH) return errno_error("kill etcd " + m.name);
  int status;
  while (::waitpid(m.pid, &status, 0) < 0 && errno == EINTR) {
  }
  m.pid = -1;
  return ok_status();
}

Status EtcdCluster::restart(size_t i) {
  NETD_TRY(kill(i));
  NETD_TRY(launch(i, true));
  return wait_healthy(i, std::chrono::seconds(30));
}

Result<size_t> EtcdCluster::leader() {
  std::vector<std::string> args = {"endpoint", "status", "-w", "json"};
  ProcessResult r = etcdctl(args);
  if (!r.ok()) return make_error(EIO, "etcdctl endpoint status: " + r.describe());
  auto statuses = nlohmann::json::parse(r.out, nullptr, false);
  if (statuses.is_discarded() || !statuses.is_array()) return make_error(EIO, "etcdctl endpoint status: " + r.out);
  for (const auto& s : statuses) {
    if (s["Status"]["header"]["member_id"] != s["Status"]["leader"]) continue;
    const std::string ep = s["Endpoint"];
    for (size_t i = 0; i < members_.size(); ++i) {
      if (endpoint(i) == ep) return i;
    }
  }
  return make_error(ENOENT, "no running member says it is the leader: " + r.out);
}

ProcessResult EtcdCluster::etcdctl(const std::vector<std::string>& args) const {
  std::string csv;
  for (const std::string& e : running_endpoints()) csv += (csv.empty() ? "" : ",") + e;
  std::vector<std::string> argv = {kEtcdctl, "--endpoints=" + csv, "--command-timeout=10s"};
  if (!spec_.tls_dir.empty()) {
    argv.insert(argv.end(), {"--cacert=" + spec_.tls_dir + "/ca.pem", "--cert=" + spec_.tls_dir + "/client.pem",
                             "--key=" + spec_.tls_dir + "/client.key"});
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return run_in(nullptr, argv);
}

}  // namespace netd::testing
