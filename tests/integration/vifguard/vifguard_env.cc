#include "tests/integration/vifguard/vifguard_env.h"

#include "tests/fixtures/require_root.h"
#include "tests/fixtures/veth.h"

namespace netd::testing {
namespace {

Status ip(const Netns& netns, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessResult r = run_in(&netns, argv);
  if (!r.ok()) return make_error(EIO, "ip " + args[0] + " " + args[1] + " failed: " + r.describe());
  return ok_status();
}

// nodad: IPv6 addresses usable at once, no duplicate address detection wait.
Status add_v6(const Netns& netns, const std::string& address, const std::string& dev) {
  return ip(netns, {"addr", "add", address, "dev", dev, "nodad"});
}

// vif0 (host) ↔ vifp (far), both with ifindex kVifIndex; up0 (host) ↔ upp (far).
Status make_links(const Netns& host, const Netns& far) {
  const std::string index = std::to_string(kVifIndex);
  NETD_TRY(ip(host, {"link", "add", "vif0", "index", index, "type", "veth", "peer", "name", "vifp", "index", index,
                     "netns", far.name()}));
  NETD_TRY(ip(host, {"addr", "add", "10.7.0.1/24", "dev", "vif0"}));
  NETD_TRY(add_v6(host, "fd07::1/64", "vif0"));
  NETD_TRY(ip(host, {"link", "set", "vif0", "up"}));
  NETD_TRY(ip(far, {"addr", "add", "10.7.0.2/24", "dev", "vifp"}));
  NETD_TRY(add_v6(far, "fd07::2/64", "vifp"));
  NETD_TRY(ip(far, {"link", "set", "vifp", "up"}));
  NETD_TRY(add_veth_pair({&host, "up0", "10.8.0.1/24"}, {&far, "upp", "10.8.0.2/24"}));
  NETD_TRY(add_v6(host, "fd08::1/64", "up0"));
  return add_v6(far, "fd08::2/64", "upp");
}

IpAddress addr(const char* text) { return IpAddress::parse(text).value(); }

}  // namespace

void VifGuardTest::SetUp() {
  NETD_REQUIRE_ROOT();
  for (auto* ns : {&ns_, &far_}) ASSERT_OK_INTO(*ns, Netns::create());
  ASSERT_OK_INTO(cgroup_, TestCgroup::create());
  ASSERT_OK_INTO(bpffs_, TestBpffsDir::create());
  ASSERT_OK(make_links(*ns_, *far_));

  ASSERT_OK_INTO(tagger_, kernel::SliceTagger::open({config().bpffs_dir, cgroup_->path(), kMask}));
  ASSERT_OK(tagger_->sync({{kMember, kSliceMark}}, {}));
}

kernel::VifGuardConfig VifGuardTest::config() const {
  return kernel::VifGuardConfig{bpffs_->path() + "/netd", cgroup_->path(), kMask};
}

Result<kernel::VifGuard> VifGuardTest::open_guard(const std::string& cgroup_path) {
  NETD_ASSIGN_OR_RETURN(NetnsGuard in_host, ns_->enter());
  kernel::VifGuardConfig c = config();
  if (!cgroup_path.empty()) c.cgroup_path = cgroup_path;
  return kernel::VifGuard::open(c);
}

Status VifGuardTest::guard_vif0(kernel::VifGuard& guard) {
  return guard.sync({{kVifIndex, kSliceMark}}, {{addr(kV4.vif), kSliceMark}, {addr(kV6.vif), kSliceMark}});
}

std::optional<ChildProcess> VifGuardTest::serve(uint32_t uid, const Netns& netns, const std::string& address,
                                                int port) {
  auto child = spawn_as(uid, uid, &netns, cgroup_->path(), {VIFGUARD_PROBE, "serve", address, std::to_string(port)});
  if (!child.ok()) {
    ADD_FAILURE() << child.error().message;
    return std::nullopt;
  }
  auto line = child->read_line();
  nlohmann::json j = json_of(line.value_or(""));
  if (j.is_discarded() || !j.contains("listening")) {
    ADD_FAILURE() << "server did not start: " << child->wait().describe();
    return std::nullopt;
  }
  return std::move(child).value();
}

std::vector<nlohmann::json> VifGuardTest::received(ChildProcess& server, const std::string& last) {
  std::vector<nlohmann::json> lines;
  bool seen_last = false;
  // After the last expected line, a quiet spell shows nothing else is on its way.
  while (auto line = server.read_line(seen_last ? std::chrono::milliseconds(300) : std::chrono::seconds(5))) {
    nlohmann::json j = json_of(*line);
    lines.push_back(j);
    if (j.value("tcp", "") == last || j.value("udp", "") == last) seen_last = true;
  }
  EXPECT_TRUE(seen_last) << "no line with " << last;
  return lines;
}

bool has_data(const std::vector<nlohmann::json>& lines, const char* proto, const std::string& data) {
  for (const auto& j : lines)
    if (j.value(proto, "") == data) return true;
  return false;
}

void VifGuardTest::udp_send(const Netns& from, const std::string& address, int port, const std::string& data) {
  ProcessResult r = run_in(&from, {VIFGUARD_PROBE, "udp-send", address, std::to_string(port), data});
  EXPECT_TRUE(r.ok()) << r.describe();
}

nlohmann::json VifGuardTest::tcp_connect(const Netns& from, const std::string& address, int port,
                                         const std::string& data, int timeout_ms) {
  ProcessResult r = run_in(&from, {VIFGUARD_PROBE, "tcp-connect", address, std::to_string(port), data,
                                   std::to_string(timeout_ms)});
  EXPECT_TRUE(r.ok()) << r.describe();
  return json_of(r.out);
}

nlohmann::json VifGuardTest::bind_as(uint32_t uid, const Netns& netns, const std::vector<std::string>& addrs) {
  std::vector<std::string> argv = {VIFGUARD_PROBE, "bind"};
  argv.insert(argv.end(), addrs.begin(), addrs.end());
  ProcessResult r = run_as(uid, uid, &netns, cgroup_->path(), argv);
  EXPECT_TRUE(r.ok()) << r.describe();
  return json_of(r.out);
}

nlohmann::json VifGuardTest::cgroup_programs(const std::string& cgroup_path) {
  ProcessResult r = run_in(nullptr, {"bpftool", "-j", "cgroup", "show", cgroup_path});
  EXPECT_TRUE(r.ok()) << r.describe();
  if (r.out.find_first_not_of(" \n") == std::string::npos) return nlohmann::json::array();
  nlohmann::json j = json_of(r.out);
  EXPECT_TRUE(j.is_array()) << r.describe();
  return j;
}

size_t VifGuardTest::programs_at(Hook hook, const std::string& cgroup_path) {
  // bpftool 7.1 names attach types like libbpf ("cgroup_inet4_bind"), older ones "bind4".
  static const char* const kNames[][2] = {
      {"cgroup_inet_ingress", "ingress"}, {"cgroup_inet4_bind", "bind4"}, {"cgroup_inet6_bind", "bind6"}};
  const auto& names = kNames[static_cast<int>(hook)];
  size_t n = 0;
  for (const auto& p : cgroup_programs(cgroup_path.empty() ? cgroup_->path() : cgroup_path)) {
    std::string type = p.value("attach_type", "");
    if (type == names[0] || type == names[1]) ++n;
  }
  return n;
}

}  // namespace netd::testing
