// Three netd "hosts" (Testbeds) under one etcd: what the fleet tests share. Each netd runs in its
// host netns with policy_source = "etcd" and reaches the test's etcd through a NetnsRelay;
// slices come from etcd only (the main file keeps [netd]). Tests wait on netd's own log lines
// ("applied etcd revision N", "refused etcd revision N") and on the node records, never sleep.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "lib/fleet/node_record.h"
#include "tests/fixtures/eventually.h"
#include "tests/fixtures/test_macros.h"
#include "tests/integration/common/testbed.h"
#include "tests/integration/fleet/etcd_test_support.h"
#include "tests/integration/fleet/netns_relay.h"

namespace netd::testing {

inline constexpr const char* kAliceBody =
    "id = 7\nuids = [1001]\n"
    "netblock = [\"10.7.0.0/24\", \"fd00:7::/64\"]\n"
    "route_devices = [\"uplink0\", \"uplink1\"]\n"
    "route_prefixes = [\"198.51.100.0/24\", \"2001:db8:100::/48\"]\n"
    "max_routes = 64\n"
    "rate = \"20mbit\"\n";

struct FleetHost {
  std::optional<Testbed> bed;
  std::unique_ptr<NetnsRelay> relay;
  std::string node;
};

class FleetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (netns, cgroup, bpffs)";
    SKIP_WITHOUT_ETCD();
    EtcdClusterSpec spec;
    spec.members = members();
    // Quiet prefixes still move the watchers' resume revision (tested with compaction).
    spec.progress_notify_interval = std::chrono::milliseconds(500);
    auto cluster = EtcdCluster::start(spec);
    ASSERT_OK(cluster);
    cluster_.emplace(std::move(*cluster));
    client_ = client_for(cluster_->endpoints());
    ASSERT_NE(client_, nullptr);
    for (int i = 0; i < hosts(); ++i) ASSERT_NO_FATAL_FAILURE(add_host(i));
  }
  virtual int members() const { return 1; }
  virtual int hosts() const { return 3; }

  std::string main_policy(const Testbed& bed, const std::string& node) const {
    TestbedOptions o;
    std::string endpoints;
    for (const auto& e : cluster_->endpoints()) endpoints += (endpoints.empty() ? "\"" : ", \"") + e + "\"";
    o.extra_netd = "policy_source = \"etcd\"\netcd_endpoints = [" + endpoints + "]\netcd_prefix = \"/netd/\"\n" +
                   "node_name = \"" + node + "\"\nnode_ttl = " + std::to_string(node_ttl_s()) + "\n";
    std::string text = bed.policy_text(o);
    return text.substr(0, text.find("\n[[slice]]")) + "\n";
  }
  virtual int node_ttl_s() const { return 3; }

  void add_host(int i) {
    FleetHost h;
    h.node = "h" + std::to_string(i);
    TestbedOptions o;
    o.start_netd = false;
    auto bed = Testbed::create(o);
    ASSERT_OK(bed);
    h.bed.emplace(std::move(*bed));
    ASSERT_OK(h.bed->write_policy(main_policy(*h.bed, h.node)));
    std::vector<int> ports;
    for (const auto& e : cluster_->endpoints()) ports.push_back(std::stoi(e.substr(e.rfind(':') + 1)));
    auto relay = NetnsRelay::start(h.bed->host().path(), ports);
    ASSERT_OK(relay);
    h.relay = std::move(*relay);
    ASSERT_OK(h.bed->start_netd());
    hosts_.push_back(std::move(h));
  }

  int64_t put(const std::string& key, const std::string& value) {
    auto rev = client_->put(key, value);
    EXPECT_OK(rev);
    return rev.ok() ? *rev : 0;
  }
  int64_t del(const std::string& key) {
    auto rev = client_->delete_key(key);
    EXPECT_OK(rev);
    return rev.ok() ? *rev : 0;
  }

  // The highest revision netd logged with "<verb> etcd revision N" (0: none).
  static int64_t logged_revision(const Testbed& bed, const std::string& verb) {
    static const std::regex applied("applied etcd revision ([0-9]+)");
    static const std::regex refused("refused etcd revision ([0-9]+)");
    const std::string log = bed.netd_log();
    int64_t best = 0;
    const std::regex& re = verb == "applied" ? applied : refused;
    for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator(); ++it)
      best = std::max<int64_t>(best, std::stoll((*it)[1]));
    return best;
  }
  bool all_logged(const std::string& verb, int64_t revision, std::chrono::milliseconds timeout = kEventTimeout) {
    return eventually(
        [&] {
          for (const auto& h : hosts_)
            if (logged_revision(*h.bed, verb) < revision) return false;
          return true;
        },
        timeout, std::chrono::milliseconds(2));
  }
  std::optional<fleet::NodeRecord> node_record(const std::string& node) {
    auto snap = client_->range_prefix("/netd/nodes/" + node);
    if (!snap.ok() || snap->kvs.empty()) return std::nullopt;
    auto r = fleet::node_record_from_json(snap->kvs.front().value);
    if (!r.ok()) return std::nullopt;
    return *r;
  }
  bool alice_can_route(const Testbed& bed, const std::string& prefix = "198.51.100.0/24") {
    auto added = bed.sliceip(kAlice, {"route", "add", prefix, "via", "10.0.1.2"});
    if (!added.ok()) return false;
    (void)bed.sliceip(kAlice, {"route", "del", prefix, "via", "10.0.1.2"});
    return true;
  }

  std::optional<EtcdCluster> cluster_;
  std::unique_ptr<fleet::EtcdClient> client_;
  std::vector<FleetHost> hosts_;
};

}  // namespace netd::testing
