// The fleet when things fail: etcd killed and restarted, netd restarted while etcd is down (the
// last good policy), a compaction while a node is cut off (re-read, converge), a silent
// partition (packets dropped, no reset), a node's lease expiring after SIGKILL, a 3-member
// cluster losing its leader.
#include "tests/integration/fleet/fleet_support.h"

namespace netd::testing {
namespace {

class FleetFaultTest : public FleetTest {
 protected:
  int hosts() const override { return 1; }
  Testbed& bed() { return *hosts_[0].bed; }
  void cut_off() { hosts_[0].relay.reset(); }
  // Every packet between netd and etcd dropped where netd runs (its host netns), without a
  // reset: a pulled cable or a firewall in between, not a refused connection.
  void partition() {
    std::string ports;
    for (const auto& e : cluster_->endpoints()) ports += (ports.empty() ? "" : ", ") + e.substr(e.rfind(':') + 1);
    for (std::vector<std::string> cmd :
         {std::vector<std::string>{"nft", "add", "table", "inet", "fleet_partition"},
          {"nft", "add", "chain", "inet", "fleet_partition", "out", "{", "type", "filter", "hook", "output", "priority",
           "-300", ";", "}"},
          {"nft", "add", "rule", "inet", "fleet_partition", "out", "tcp", "dport", "{", ports, "}", "drop"},
          {"nft", "add", "rule", "inet", "fleet_partition", "out", "tcp", "sport", "{", ports, "}", "drop"}}) {
      auto done = bed().root(cmd);
      ASSERT_TRUE(done.ok()) << done.describe();
    }
  }
  void heal() {
    auto done = bed().root({"nft", "delete", "table", "inet", "fleet_partition"});
    ASSERT_TRUE(done.ok()) << done.describe();
  }
  void reconnect() {
    std::vector<int> ports;
    for (const auto& e : cluster_->endpoints()) ports.push_back(std::stoi(e.substr(e.rfind(':') + 1)));
    auto relay = NetnsRelay::start(bed().host().path(), ports);
    ASSERT_OK(relay);
    hosts_[0].relay = std::move(*relay);
  }
};

TEST_F(FleetFaultTest, EtcdKilledAndRestartedNetdKeepsServingAndCatchesUp) {
  const int64_t first = put("/netd/slices/alice", kAliceBody);
  ASSERT_TRUE(all_logged("applied", first));
  ASSERT_OK(cluster_->kill(0));
  ASSERT_TRUE(eventually([&] { return bed().netd_log().find("retrying with back-off") != std::string::npos; }));
  EXPECT_TRUE(alice_can_route(bed())) << "serving while etcd is down";
  ASSERT_OK(cluster_->restart(0));
  client_ = client_for(cluster_->endpoints());
  std::string body = kAliceBody;
  body.replace(body.find("20mbit"), 6, "40mbit");
  const int64_t next = put("/netd/slices/alice", body);
  ASSERT_TRUE(all_logged("applied", next)) << bed().netd_log();
  EXPECT_NE(bed().root({"tc", "class", "show", "dev", "uplink0"}).out.find("rate 40Mbit"), std::string::npos);
}

TEST_F(FleetFaultTest, NetdRestartedWhileEtcdIsDownServesTheLastGoodPolicy) {
  const int64_t good = put("/netd/slices/alice", kAliceBody);
  ASSERT_TRUE(all_logged("applied", good));
  // SIGTERM: a clean stop (the watcher thread cancelled and joined under the syscall filter).
  auto stopped = bed().stop_netd();
  EXPECT_EQ(stopped.exit_code, 0) << stopped.describe() << stopped.err;
  ASSERT_OK(cluster_->kill(0));
  ASSERT_OK(bed().start_netd());
  ASSERT_TRUE(eventually([&] {
    return bed().netd_log().find("serving the last good policy, etcd revision " + std::to_string(good)) !=
           std::string::npos;
  })) << bed().netd_log();
  EXPECT_TRUE(alice_can_route(bed()));
  ASSERT_OK(cluster_->restart(0));
  ASSERT_TRUE(all_logged("applied", good)) << bed().netd_log();
  EXPECT_TRUE(alice_can_route(bed()));
}

TEST_F(FleetFaultTest, NoEtcdAndNoLastGoodStartsWithTheFilesSlicesOnlyAndSaysSo) {
  (void)bed().stop_netd();
  ASSERT_OK(cluster_->kill(0));
  std::remove((bed().dir() + "/state/fleet-policy.json").c_str());
  ASSERT_OK(bed().start_netd());
  EXPECT_NE(bed().netd_log().find("WARNING: etcd unreachable at start and no last good policy"), std::string::npos)
      << bed().netd_log();
}

TEST_F(FleetFaultTest, CompactionWhileCutOffIsReadAgainAndConverges) {
  const int64_t first = put("/netd/slices/alice", kAliceBody);
  ASSERT_TRUE(all_logged("applied", first));
  cut_off();
  ASSERT_TRUE(eventually([&] { return bed().netd_log().find("retrying with back-off") != std::string::npos; }));
  del("/netd/slices/alice");
  const int64_t last = put("/netd/slices/bob", "id = 8\nuids = [1002]\nroute_devices = [\"uplink0\"]\n"
                                               "route_prefixes = [\"198.51.100.0/24\"]\nmax_routes = 4\n");
  auto compacted = cluster_->etcdctl({"compact", std::to_string(last)});
  ASSERT_TRUE(compacted.ok()) << compacted.err;
  ASSERT_NO_FATAL_FAILURE(reconnect());
  ASSERT_TRUE(all_logged("applied", last)) << bed().netd_log();
  EXPECT_NE(bed().netd_log().find("was compacted"), std::string::npos) << bed().netd_log();
  EXPECT_FALSE(alice_can_route(bed()));
  EXPECT_TRUE(bed().sliceip(kBob, {"route", "add", "198.51.100.0/24", "via", "10.0.1.2"}).ok());
}

// Nothing tells netd the path is gone: its keep-alives (the lease's, gRPC's HTTP/2 pings) go
// unanswered, it says so and retries, its node record expires, and the kernel keeps the policy
// last applied. Once packets flow again it resumes from the revision it had, applies what it
// missed and registers again, without a restart.
TEST_F(FleetFaultTest, SilentPartitionIsNoticedAndHealsWithoutHelp) {
  const int64_t first = put("/netd/slices/alice", kAliceBody);
  ASSERT_TRUE(all_logged("applied", first));
  ASSERT_TRUE(eventually([&] { return node_record("h0").has_value(); }));
  ASSERT_NO_FATAL_FAILURE(partition());
  std::string body = kAliceBody;
  body.replace(body.find("20mbit"), 6, "40mbit");
  const int64_t missed = put("/netd/slices/alice", body);
  ASSERT_TRUE(eventually([&] { return bed().netd_log().find("retrying with back-off") != std::string::npos; },
                         std::chrono::seconds(60)))
      << bed().netd_log();
  ASSERT_TRUE(eventually([&] { return !node_record("h0").has_value(); }, std::chrono::seconds(60)))
      << "the record of a node nobody hears from expires with its lease";
  EXPECT_LT(logged_revision(bed(), "applied"), missed);
  EXPECT_TRUE(alice_can_route(bed())) << "serving the last applied policy while cut off";
  EXPECT_NE(bed().root({"tc", "class", "show", "dev", "uplink0"}).out.find("rate 20Mbit"), std::string::npos);

  ASSERT_NO_FATAL_FAILURE(heal());
  ASSERT_TRUE(all_logged("applied", missed, std::chrono::seconds(60))) << bed().netd_log();
  EXPECT_NE(bed().root({"tc", "class", "show", "dev", "uplink0"}).out.find("rate 40Mbit"), std::string::npos);
  ASSERT_TRUE(eventually(
      [&] {
        auto r = node_record("h0");
        return r && r->revision >= missed && r->health == "ok";
      },
      std::chrono::seconds(30)))
      << "registered again, with the revision it applied";
}

TEST_F(FleetFaultTest, LeaseExpiresAfterSigkillAndTheNodeRegistersAgain) {
  ASSERT_TRUE(eventually([&] { return node_record("h0").has_value(); }));
  bed().kill_netd(SIGKILL);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return !node_record("h0").has_value(); }));
  const double gone_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("fleet_node_record_gone_after_sigkill %.2f s (node_ttl %d s)\n", gone_s, node_ttl_s());
  ASSERT_OK(bed().start_netd());
  ASSERT_TRUE(eventually([&] { return node_record("h0").has_value(); }));
}

TEST_F(FleetFaultTest, SighupReadsTheMainFileAgainWithTheCurrentKeysAndEtcdKeysNeedARestart) {
  const int64_t good = put("/netd/slices/alice", kAliceBody);
  ASSERT_TRUE(all_logged("applied", good));
  const std::string main = main_policy(bed(), "h0");
  ASSERT_OK(bed().write_policy(main + "\n[[slice]]\nname = \"carol\"\nid = 9\nuids = [1003]\n"
                                      "route_devices = [\"uplink0\"]\nroute_prefixes = [\"198.51.100.0/24\"]\n"
                                      "max_routes = 4\n"));
  auto reloaded = bed().reload_netd();
  ASSERT_OK(reloaded);
  EXPECT_NE(reloaded->find("reloaded"), std::string::npos) << *reloaded;
  EXPECT_TRUE(bed().sliceip(kCarol, {"route", "add", "198.51.100.0/24", "via", "10.0.1.2"}).ok()) << "the local slice";
  EXPECT_TRUE(alice_can_route(bed())) << "etcd's slice kept";

  std::string moved = main;
  moved.replace(moved.find("etcd_prefix = \"/netd/\""), 22, "etcd_prefix = \"/other/\"");
  ASSERT_OK(bed().write_policy(moved));
  auto refused = bed().reload_netd();
  ASSERT_OK(refused);
  EXPECT_NE(refused->find("changing [netd] etcd_prefix needs a restart of netd"), std::string::npos) << *refused;
  EXPECT_TRUE(alice_can_route(bed()));
}

TEST_F(FleetFaultTest, CheckPolicyValidatesTheKeysUnderThePrefixOrAStagingOne) {
  const int64_t good = put("/netd/slices/alice", kAliceBody);
  auto checked = bed().root({netd_binary(), "--check-policy", bed().policy_path()});
  EXPECT_EQ(checked.exit_code, 0) << checked.err;
  // The prefix as read now: the put's revision or later (the node's record is under it too).
  static const std::regex read_at("with etcd revision ([0-9]+) of /netd/: valid");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(checked.out, m, read_at)) << checked.out;
  EXPECT_GE(std::stoll(m[1]), good);
  EXPECT_NE(checked.out.find("alice"), std::string::npos) << checked.out;
  put("/staging/slices/bob", "id = 8\nuids = [1001]\n");
  put("/staging/slices/alice", kAliceBody);
  auto staged = bed().root({netd_binary(), "--check-policy", bed().policy_path(), "--etcd-prefix", "/staging/"});
  EXPECT_EQ(staged.exit_code, 1) << staged.out;
  EXPECT_NE(staged.err.find("etcd:/staging/slices/bob"), std::string::npos) << staged.err;
}

TEST_F(FleetFaultTest, ABurstOfPutsIsAppliedAsFewDiffs) {
  const int64_t start = put("/netd/slices/alice", kAliceBody);
  ASSERT_TRUE(all_logged("applied", start));
  auto applied_lines = [&] {
    const std::string log = bed().netd_log();
    size_t n = 0;
    for (size_t at = log.find("applied etcd revision"); at != std::string::npos;
         at = log.find("applied etcd revision", at + 1))
      ++n;
    return n;
  };
  const size_t before = applied_lines();
  constexpr int kPuts = 30;
  int64_t last = 0;
  for (int i = 0; i < kPuts; ++i)
    last = put("/netd/slices/s" + std::to_string(i),
               "id = " + std::to_string(20 + i) + "\nuids = [" + std::to_string(3000 + i) + "]\n");
  ASSERT_TRUE(all_logged("applied", last)) << bed().netd_log();
  const size_t diffs = applied_lines() - before;
  std::printf("fleet_burst_puts %d\nfleet_burst_diffs %zu\n", kPuts, diffs);
  EXPECT_LT(diffs, static_cast<size_t>(kPuts) / 2) << "puts in a burst coalesce into few diffs";
}

class FleetClusterTest : public FleetFaultTest {
 protected:
  int members() const override { return 3; }
};

TEST_F(FleetClusterTest, LeaderKilledNetdFollowsTheNewLeader) {
  const int64_t first = put("/netd/slices/alice", kAliceBody);
  ASSERT_TRUE(all_logged("applied", first));
  auto leader = cluster_->leader();
  ASSERT_OK(leader);
  ASSERT_OK(cluster_->kill(*leader));
  std::string body = kAliceBody;
  body.replace(body.find("20mbit"), 6, "40mbit");
  // Writes resume once a new leader is elected; the client rotates to a live member.
  int64_t next = 0;
  ASSERT_TRUE(eventually([&] {
    auto rev = client_->put("/netd/slices/alice", body);
    if (rev.ok()) next = *rev;
    return rev.ok();
  }));
  ASSERT_TRUE(all_logged("applied", next)) << bed().netd_log();
}

}  // namespace
}  // namespace netd::testing
