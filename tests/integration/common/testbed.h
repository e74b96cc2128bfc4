// Testbed: the set-up every integration test runs in, private to one test. A "host" netns with
// two uplinks (veths) to a "peer" netns standing in for the network, a cgroup and a bpffs
// directory of its own, a policy for alice (uid 1001), bob (uid 1002) and non-member carol
// (uid 1003), and netd serving it inside the host netns.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "lib/core/result.h"
#include "tests/fixtures/netns.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/test_bpffs.h"
#include "tests/fixtures/test_cgroup.h"

namespace netd::testing {

inline constexpr uid_t kAlice = 1001;
inline constexpr uid_t kBob = 1002;
inline constexpr uid_t kCarol = 1003;

// Addresses of the testbed:
//   host uplink0 10.0.1.1/24 fd00:1::1/64  <->  peer peer0 10.0.1.2/24 fd00:1::2/64  (main default route)
//   host uplink1 10.0.2.1/24 fd00:2::1/64  <->  peer peer1 10.0.2.2/24 fd00:2::2/64
//   peer lo: 198.51.100.7/32, 2001:db8:100::7/128 (the "remote" server)
struct TestbedOptions {
  std::string extra_alice;  // TOML lines appended to alice's [[slice]] table
  std::string extra_bob;
  std::string extra_netd;   // appended to [netd]
  bool start_netd = true;
  // netd's command line starts with these words (e.g. setpriv --bounding-set -net_raw --,
  // env NOTIFY_SOCKET=..., systemd-socket-activate -l PATH): how netd is launched.
  std::vector<std::string> netd_wrapper;
  // Appended to netd's command line (e.g. --no-syscall-filter).
  std::vector<std::string> netd_args;
  // netd runs in the testbed's cgroup, as on a host whose `cgroup` covers every process: the
  // raw sockets it hands out belong to its cgroup, so only then does the flow recorder
  // (cgroup egress) learn the flows they send and fence their ports.
  bool netd_in_cgroup = false;
};

class Testbed {
 public:
  static Result<Testbed> create(const TestbedOptions& options = {});
  Testbed(Testbed&& other) noexcept;
  Testbed& operator=(Testbed&&) = delete;
  ~Testbed();

  const Netns& host() const { return *host_; }
  const Netns& peer() const { return *peer_; }
  const std::string& cgroup() const { return cgroup_->path(); }
  const std::string& bpffs() const { return bpffs_->path(); }
  const std::string& socket_path() const { return socket_path_; }
  const std::string& policy_path() const { return policy_path_; }
  const std::string& dir() const { return dir_; }

  // The policy text the testbed wrote (tests rewrite it for reload scenarios).
  Status write_policy(const std::string& toml);
  std::string policy_text(const TestbedOptions& options) const;

  // Starts netd (--foreground) in the host netns and waits until it answers.
  Status start_netd();
  // How netd is launched from now on (TestbedOptions::netd_wrapper).
  void set_netd_wrapper(std::vector<std::string> words) { netd_wrapper_ = std::move(words); }
  // Starts netd and returns at once (for tests that wait for another sign of readiness).
  Status launch_netd();
  // SIGKILL (no clean-up chance) or SIGTERM.
  void kill_netd(int sig);
  ProcessResult stop_netd();  // SIGTERM + wait; .err holds its log (audit lines)
  std::string log_path() const;
  std::string netd_log() const;
  bool netd_in_cgroup() const { return netd_in_cgroup_; }  // TestbedOptions::netd_in_cgroup
  pid_t netd_pid() const;
  // SIGHUP, then waits until netd has logged the outcome: its line ("netd: reloaded ..." or
  // "netd: reloading ..., policy kept: why"), or an error if netd logged none.
  Result<std::string> reload_netd();
  // netd's open fds, and how many of them are client connections (accepted sockets on its
  // Varlink socket path): a client that exited may still count until netd sees the hang-up.
  size_t netd_fds() const;
  size_t netd_connections() const;

  // A command as `uid` in the host netns and the testbed's cgroup, with NETD_SOCKET set.
  ProcessResult as(uid_t uid, std::vector<std::string> argv) const;
  // `sliceip ARGS...` as uid.
  ProcessResult sliceip(uid_t uid, std::vector<std::string> args) const;
  // `vtuntap ARGS...` as uid.
  ProcessResult vtuntap(uid_t uid, std::vector<std::string> args) const;
  // A long-running command as `uid` (host netns, cgroup, NETD_SOCKET), driven step by step.
  Result<ChildProcess> spawn_as(uid_t uid, std::vector<std::string> argv) const;
  // Varlink calls as uid over one connection, by a foreign client (Python's socket module);
  // each call's reply in order (null where none came). A call's "_fds": N sends N fds with it.
  std::vector<nlohmann::json> varlink(uid_t uid, const std::vector<nlohmann::json>& calls) const;
  // A command as root inside the host netns (ip -j, nft -j, netd --teardown).
  ProcessResult root(std::vector<std::string> argv) const;
  ProcessResult in_peer(std::vector<std::string> argv) const;
  // A long-running command as root in the peer netns (a traffic sink such as iperf3 -s).
  Result<ChildProcess> spawn_in_peer(std::vector<std::string> argv) const;

  // Routes of every table but `local` (which the kernel fills asynchronously with IPv6
  // link-local entries) and rules, both families: to prove a refusal changed nothing.
  std::string routing_state() const;
  // `ip -j rule show` of one family ("-4", "-6") at netd's priorities: rule_priority (1000
  // here) up to main's rule. netd_rules: all of them (its rule tree); slice_rules: only the
  // lookup rules to slice tables, one per slice with routes of the family.
  nlohmann::json netd_rules(const std::string& family = "-4") const;
  nlohmann::json slice_rules(const std::string& family = "-4") const;

  // uid's TCP connection to addr:8080 (the peer's server), and the source address the
  // peer saw. Empty when it could not connect.
  std::string connect_source(uid_t uid, const std::string& addr) const;

 private:
  Testbed() = default;
  std::optional<Netns> host_;
  std::optional<Netns> peer_;
  std::optional<TestCgroup> cgroup_;
  std::optional<TestBpffsDir> bpffs_;
  std::string dir_;
  std::string socket_path_;
  std::string policy_path_;
  std::vector<std::string> netd_wrapper_;
  std::vector<std::string> netd_args_;
  bool netd_in_cgroup_ = false;
  std::optional<ChildProcess> netd_;
  std::optional<ChildProcess> peer_server_;
};

std::string netd_binary();
std::string sliceip_binary();
std::string vtuntap_binary();

}  // namespace netd::testing
