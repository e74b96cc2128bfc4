// The etcd client through etcd's faults: the server killed and restarted (the next call works
// again), the leader of a 3-member cluster killed (reads and watches go on on another member).
#include "tests/integration/fleet/etcd_test_support.h"

namespace netd::testing {
namespace {

TEST(EtcdFaultTest, NextCallWorksAfterEtcdIsKilledAndRestarted) {
  SKIP_WITHOUT_ETCD();
  std::optional<EtcdCluster> cluster;
  ASSERT_OK_INTO(cluster, EtcdCluster::start());
  auto client = client_for(cluster->endpoints(), std::chrono::seconds(2));
  auto rev = client->put("/netd/slices/a", "1");
  ASSERT_OK(rev);
  auto watch = client->watch_prefix("/netd/", *rev + 1);
  ASSERT_OK(watch);

  ASSERT_OK(cluster->kill(0));
  // The open watch ends (it does not hang), and a call while etcd is down fails in its deadline
  // with a message naming the endpoint.
  auto end = watch_end(**watch);
  ASSERT_TRUE(end.has_value()) << "the watch did not end";
  EXPECT_EQ(end->code, ECONNREFUSED) << end->message;
  EXPECT_THAT(end->message, ::testing::HasSubstr(cluster->endpoint(0)));
  auto down = client->range_prefix("/netd/");
  ASSERT_FALSE(down.ok());
  EXPECT_THAT(down.error().message, ::testing::HasSubstr("etcd Range /netd/ on " + cluster->endpoint(0)));

  ASSERT_OK(cluster->restart(0));
  auto again = client->range_prefix("/netd/");
  ASSERT_OK(again);
  ASSERT_EQ(again->kvs.size(), 1u);
  EXPECT_EQ(again->kvs[0].value, "1");
  // A new watch resumes where the old one stopped.
  auto resumed = client->watch_prefix("/netd/", again->revision + 1);
  ASSERT_OK(resumed);
  auto r2 = client->put("/netd/slices/a", "2");
  ASSERT_OK(r2);
  auto batch = next_batch(**resumed);
  ASSERT_OK(batch);
  ASSERT_EQ(batch->revisions.size(), 1u);
  EXPECT_EQ(batch->revisions[0].revision, *r2);
}

TEST(EtcdFaultTest, LeaderKilledReadsAndWatchesGoOnOnAnotherMember) {
  SKIP_WITHOUT_ETCD();
  std::optional<EtcdCluster> cluster;
  ASSERT_OK_INTO(cluster, EtcdCluster::start({.members = 3}));
  auto leader = cluster->leader();
  ASSERT_OK(leader);
  // The client starts on the leader, so killing it takes away the endpoint in use.
  std::vector<std::string> endpoints = {cluster->endpoint(*leader)};
  for (size_t i = 0; i < cluster->size(); ++i) {
    if (i != *leader) endpoints.push_back(cluster->endpoint(i));
  }
  auto client = client_for(endpoints);
  auto rev = client->put("/netd/slices/a", "1");
  ASSERT_OK(rev);
  EXPECT_EQ(client->current_endpoint(), cluster->endpoint(*leader));
  auto watch = client->watch_prefix("/netd/", *rev + 1);
  ASSERT_OK(watch);
  EXPECT_EQ((*watch)->endpoint(), cluster->endpoint(*leader));

  ASSERT_OK(cluster->kill(*leader));
  auto end = watch_end(**watch);
  ASSERT_TRUE(end.has_value()) << "the watch did not end";

  auto snapshot = client->range_prefix("/netd/");  // rotates, waits out the election
  ASSERT_OK(snapshot);
  EXPECT_NE(client->current_endpoint(), cluster->endpoint(*leader));
  ASSERT_EQ(snapshot->kvs.size(), 1u);
  auto resumed = client->watch_prefix("/netd/", snapshot->revision + 1);
  ASSERT_OK(resumed);
  EXPECT_NE((*resumed)->endpoint(), cluster->endpoint(*leader));
  auto r2 = client->put("/netd/slices/b", "2");
  ASSERT_OK(r2);
  auto batch = next_batch(**resumed);
  ASSERT_OK(batch);
  ASSERT_EQ(batch->revisions.size(), 1u);
  EXPECT_EQ(batch->revisions[0].revision, *r2);
  EXPECT_EQ(batch->revisions[0].events[0].kv.key, "/netd/slices/b");

  // The killed member rejoins with its data and catches up.
  ASSERT_OK(cluster->restart(*leader));
  auto rejoined = client_for({cluster->endpoint(*leader)});
  auto seen = rejoined->range_prefix("/netd/");
  ASSERT_OK(seen);
  EXPECT_EQ(seen->kvs.size(), 2u);
}

TEST(EtcdFaultTest, WatchOnAMemberWithoutQuorumEnds) {
  SKIP_WITHOUT_ETCD();
  std::optional<EtcdCluster> cluster;
  ASSERT_OK_INTO(cluster, EtcdCluster::start({.members = 3}));
  auto leader = cluster->leader();
  ASSERT_OK(leader);
  size_t survivor = (*leader + 1) % 3;
  auto client = client_for({cluster->endpoint(survivor)});
  auto watch = client->watch_prefix("/netd/", 1);
  ASSERT_OK(watch);
  // Two of three gone: the survivor is up but has no leader. With "hasleader" the watch ends
  // instead of staying open and silent.
  for (size_t i = 0; i < 3; ++i) {
    if (i != survivor) ASSERT_OK(cluster->kill(i));
  }
  auto end = watch_end(**watch);
  ASSERT_TRUE(end.has_value()) << "the watch did not end";
  EXPECT_THAT(end->message, ::testing::HasSubstr("no leader"));
}

}  // namespace
}  // namespace netd::testing
