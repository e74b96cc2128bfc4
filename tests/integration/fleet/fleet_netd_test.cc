// Three netd hosts under one etcd (fleet_support.h): slices published, changed and removed with
// one key each, bad revisions refused everywhere, the node registry, and the time from a put
// to "applied" on all three (printed as figures: `fleet_put_applied_all_p50 N ms`).
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>

#include "netd/kernel/caps/syscall_filter.h"
#include "tests/integration/common/seccomp_view.h"
#include "tests/integration/fleet/fleet_support.h"

namespace netd::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::string tc_classes(const Testbed& bed) { return bed.root({"tc", "class", "show", "dev", "uplink0"}).out; }

TEST_F(FleetTest, PutReachesEveryHostChangeAppliesInPlaceRemoveTakesItAway) {
  for (auto& h : hosts_) EXPECT_FALSE(alice_can_route(*h.bed)) << h.node << ": alice is no slice yet";

  const int64_t added = put("/netd/slices/alice", kAliceBody);
  ASSERT_TRUE(all_logged("applied", added)) << hosts_[0].bed->netd_log();
  for (auto& h : hosts_) {
    EXPECT_TRUE(alice_can_route(*h.bed)) << h.node;
    EXPECT_NE(tc_classes(*h.bed).find("rate 20Mbit"), std::string::npos) << h.node << tc_classes(*h.bed);
  }
  // The registry: every node ran the revision, healthy.
  ASSERT_TRUE(eventually([&] {
    for (auto& h : hosts_) {
      auto r = node_record(h.node);
      if (!r || r->revision < added || r->health != "ok") return false;
    }
    return true;
  }));
  auto table = cluster_->etcdctl({"get", "--prefix", "/netd/nodes/"});
  EXPECT_NE(table.out.find("\"health\":\"ok\""), std::string::npos) << table.out;
  // The same registry through netd (io.netd.Admin.FleetStatus), as an admin reads it.
  ASSERT_TRUE(eventually([&] {
    auto status = hosts_[0].bed->sliceip(0, {"-a", "-j", "fleet", "status"});
    return status.ok() && status.out.find("\"h2\"") != std::string::npos;
  })) << hosts_[0].bed->sliceip(0, {"-a", "-j", "fleet", "status"}).err;
  auto status = hosts_[0].bed->sliceip(0, {"-a", "fleet", "status"});
  EXPECT_TRUE(status.ok()) << status.err;
  std::printf("%s", status.out.c_str());
  EXPECT_FALSE(hosts_[0].bed->sliceip(kAlice, {"-a", "fleet", "status"}).ok()) << "admins only";

  // In place: other prefixes, another rate (alice keeps her slice, table and class).
  for (auto& h : hosts_) ASSERT_TRUE(h.bed->sliceip(kAlice, {"route", "add", "198.51.100.0/24", "via", "10.0.1.2"}).ok());
  std::string changed_body = kAliceBody;
  changed_body.replace(changed_body.find("\"198.51.100.0/24\", "), std::string("\"198.51.100.0/24\", ").size(),
                       "\"203.0.113.0/24\", ");
  changed_body.replace(changed_body.find("20mbit"), 6, "30mbit");
  const int64_t changed = put("/netd/slices/alice", changed_body);
  ASSERT_TRUE(all_logged("applied", changed));
  for (auto& h : hosts_) {
    EXPECT_TRUE(alice_can_route(*h.bed, "203.0.113.0/24")) << h.node;
    EXPECT_FALSE(alice_can_route(*h.bed, "198.51.100.0/24")) << h.node;
    // As at a reload: a route the slice already has stays (grants that shrink apply to the
    // next requests); the slice's table itself went on being served.
    EXPECT_NE(tc_classes(*h.bed).find("rate 30Mbit"), std::string::npos) << h.node << tc_classes(*h.bed);
  }

  // A vif of alice's on every host, which her removal takes away with her routes and class.
  for (auto& h : hosts_) {
    auto tun = h.bed->vtuntap(kAlice, {"add", "tun", "--addr", "10.7.0.1/30", "--up", "--persist"});
    ASSERT_TRUE(tun.ok()) << h.node << ": " << tun.describe();
    ASSERT_EQ(tun.out, "tun7-0\n") << h.node;
    EXPECT_NE(h.bed->root({"nft", "list", "table", "netdev", "netd"}).out.find("\"tun7-0\""), std::string::npos)
        << h.node << ": the vif is guarded";
  }

  const int64_t removed = del("/netd/slices/alice");
  ASSERT_TRUE(all_logged("applied", removed));
  for (auto& h : hosts_) {
    EXPECT_FALSE(alice_can_route(*h.bed, "203.0.113.0/24")) << h.node;
    EXPECT_EQ(h.bed->root({"ip", "route", "show", "table", "10007"}).out, "") << h.node;
    EXPECT_EQ(tc_classes(*h.bed).find("4e44:7 "), std::string::npos) << h.node << tc_classes(*h.bed);
    EXPECT_FALSE(h.bed->root({"ip", "link", "show", "dev", "tun7-0"}).ok()) << h.node << ": alice's vif stays";
    EXPECT_EQ(h.bed->root({"nft", "list", "table", "netdev", "netd"}).out.find("tun7-0"), std::string::npos)
        << h.node << ": a guard of alice's vif stays";
  }
}

// The watcher's and gRPC's threads start before netd serves; once it serves, every thread runs
// under the fleet's filter (the base list plus fleet_syscalls(), loaded with TSYNC), the very
// program the unit tests exercise, and the fleet still works through them.
TEST_F(FleetTest, EveryThreadOfNetdServesUnderTheFleetsSyscallFilter) {
  if (!kernel::kSyscallFilterInThisBuild) GTEST_SKIP() << "a sanitizer build: netd serves without the filter";
  auto expected = kernel::SeccompFilter::build(SCMP_ACT_ERRNO(EPERM), kernel::SyscallSet::kServingWithFleet);
  ASSERT_OK(expected);
  auto program = expected->bpf_program();
  ASSERT_OK(program);
  for (auto& h : hosts_) {
    ASSERT_TRUE(eventually([&] { return h.bed->netd_log().find("netd: serving with") != std::string::npos; }))
        << h.bed->netd_log();
    const std::vector<pid_t> tids = threads_of(h.bed->netd_pid());
    int seen = 0;
    for (pid_t tid : tids) {
      // gRPC's pool ends threads as it likes: one gone before it was read is skipped.
      const std::string task = "/proc/" + std::to_string(h.bed->netd_pid()) + "/task/" + std::to_string(tid);
      auto status = proc_status(task + "/status");
      const std::string loaded = loaded_seccomp_program(tid);
      if (status.empty() || (loaded.empty() && access(task.c_str(), F_OK) != 0)) continue;
      ++seen;
      const std::string name = h.node + " thread " + std::to_string(tid) + " (" + status["Name"] + ")";
      EXPECT_EQ(status["Seccomp"], "2") << name;
      EXPECT_EQ(status["Seccomp_filters"], "1") << name;
      EXPECT_FALSE(loaded.empty()) << name << ": could not read its filter: " << std::strerror(errno);
      EXPECT_TRUE(loaded.empty() || loaded == *program) << name << " runs under another filter";
    }
    EXPECT_GE(seen, 3) << h.node << ": netd, its watcher and gRPC's threads";
  }
  // Stopped and read, the threads go on following etcd.
  const int64_t added = put("/netd/slices/alice", kAliceBody);
  ASSERT_TRUE(all_logged("applied", added)) << hosts_[0].bed->netd_log();
  for (auto& h : hosts_) EXPECT_TRUE(alice_can_route(*h.bed)) << h.node;
}

// gRPC and the watcher are a module netd loads for policy_source = "etcd" only
// (netd/fleet/fleet_api.h): the fleet's netds map it, a netd serving a file maps none of it.
TEST_F(FleetTest, OnlyANetdFollowingEtcdMapsGrpc) {
  auto maps_of = [](pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  for (auto& h : hosts_) {
    const std::string maps = maps_of(h.bed->netd_pid());
    EXPECT_NE(maps.find("/lib/netd/netd-fleet.so"), std::string::npos) << h.node;
    EXPECT_NE(maps.find("libgrpc"), std::string::npos) << h.node;
  }
  auto plain = Testbed::create(TestbedOptions{});
  ASSERT_OK(plain);
  const std::string maps = maps_of(plain->netd_pid());
  EXPECT_EQ(maps.find("netd-fleet.so"), std::string::npos) << maps;
  EXPECT_EQ(maps.find("libgrpc"), std::string::npos) << maps;
  EXPECT_EQ(maps.find("libprotobuf"), std::string::npos) << maps;
}

TEST_F(FleetTest, BadRevisionIsRefusedEverywhereAndTheNextGoodOneApplies) {
  const int64_t good = put("/netd/slices/alice", kAliceBody);
  ASSERT_TRUE(all_logged("applied", good));

  // Not TOML at all.
  const int64_t broken = put("/netd/slices/bob", "id = 8\nuids = [1002\n");
  ASSERT_TRUE(all_logged("refused", broken));
  for (auto& h : hosts_) {
    EXPECT_TRUE(alice_can_route(*h.bed)) << h.node << ": the previous policy keeps working";
    EXPECT_NE(h.bed->netd_log().find("etcd:/netd/slices/bob"), std::string::npos) << h.node << ": the key is named";
  }
  ASSERT_TRUE(eventually([&] {
    for (auto& h : hosts_) {
      auto r = node_record(h.node);
      // The revision refused is the prefix's as read: the put's, or later (other nodes' records).
      if (!r || r->health.rfind("refused revision ", 0) != 0 || r->revision < good) return false;
      if (std::stoll(r->health.substr(std::string("refused revision ").size())) < broken) return false;
    }
    return true;
  })) << node_record("h0").value_or(fleet::NodeRecord{}).health;

  // A uid in two slices.
  const int64_t twice = put("/netd/slices/bob", "id = 8\nuids = [1002, 1001]\n");
  ASSERT_TRUE(all_logged("refused", twice));
  for (auto& h : hosts_) EXPECT_TRUE(alice_can_route(*h.bed)) << h.node;

  const int64_t fixed = put("/netd/slices/bob", "id = 8\nuids = [1002]\nroute_devices = [\"uplink0\"]\n"
                                                "route_prefixes = [\"198.51.100.0/24\"]\nmax_routes = 4\n");
  ASSERT_TRUE(all_logged("applied", fixed));
  ASSERT_TRUE(eventually([&] {
    for (auto& h : hosts_) {
      auto r = node_record(h.node);
      if (!r || r->health != "ok" || r->revision < fixed) return false;
    }
    return true;
  }));
  for (auto& h : hosts_) EXPECT_TRUE(h.bed->sliceip(kBob, {"route", "add", "198.51.100.0/24", "via", "10.0.1.2"}).ok());
}

TEST_F(FleetTest, EtcdCannotCarryNetdKeys) {
  const int64_t rev = put("/netd/slices/alice", std::string("[netd]\nsocket = \"/tmp/evil.sock\"\n"));
  ASSERT_TRUE(all_logged("refused", rev));
  const int64_t rev2 = put("/netd/slices/alice", std::string(kAliceBody) + "bpffs = \"/sys/fs/bpf/evil\"\n");
  ASSERT_TRUE(all_logged("refused", rev2));
  for (auto& h : hosts_) EXPECT_FALSE(alice_can_route(*h.bed));
}

// put -> "applied etcd revision N" logged by all three netd: the fleet's latency.
TEST_F(FleetTest, PutToAppliedOnAllThreeLatency) {
  std::vector<double> ms;
  for (int i = 0; i < 20; ++i) {
    std::string body = kAliceBody;
    body.replace(body.find("max_routes = 64"), 15, "max_routes = " + std::to_string(10 + i));
    const auto t0 = Clock::now();
    const int64_t rev = put("/netd/slices/alice", body);
    ASSERT_TRUE(all_logged("applied", rev));
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  const double p50 = ms[ms.size() / 2];
  const double p90 = ms[ms.size() * 9 / 10];
  std::printf("fleet_put_applied_all_p50 %.1f ms\nfleet_put_applied_all_p90 %.1f ms\nfleet_put_applied_all_max %.1f ms\n",
              p50, p90, ms.back());
  RecordProperty("put_applied_all_p50_ms", std::to_string(p50));
  EXPECT_LE(p50, 100.0) << "target: p50 <= 100 ms";
}

}  // namespace
}  // namespace netd::testing
