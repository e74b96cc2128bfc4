// Leases (the node registry's) and etcd users (auth enabled with etcdctl in the test).
#include "tests/integration/fleet/etcd_test_support.h"

namespace netd::testing {
namespace {

TEST(EtcdLeaseTest, KeyOfALeaseNotKeptAliveGoesKeyOfAKeptOneStays) {
  SKIP_WITHOUT_ETCD();
  std::optional<EtcdCluster> cluster;
  ASSERT_OK_INTO(cluster, EtcdCluster::start());
  auto client = client_for(cluster->endpoints());
  auto start = client->range_prefix("/netd/nodes/");
  ASSERT_OK(start);
  auto watch = client->watch_prefix("/netd/nodes/", start->revision + 1);
  ASSERT_OK(watch);

  auto dropped = client->lease_grant(2);  // etcd's minimum TTL here (1.5 election timeouts)
  auto kept = client->lease_grant(2);
  ASSERT_OK(dropped);
  ASSERT_OK(kept);
  ASSERT_OK(client->put("/netd/nodes/dropped", "{}", *dropped));
  ASSERT_OK(client->put("/netd/nodes/kept", "{}", *kept));
  auto ttl = client->lease_keep_alive_once(*kept);
  ASSERT_OK(ttl);
  EXPECT_GT(*ttl, 0);

  // Keep one alive every 500 ms (what the watcher does every TTL/3) until the other's key is
  // deleted by its expiry: waited for on the watch, which is also what keeps time here.
  bool expired = false;
  auto deadline = std::chrono::steady_clock::now() + kEventTimeout;
  while (!expired && std::chrono::steady_clock::now() < deadline) {
    auto next = (*watch)->next(std::chrono::milliseconds(500));
    ASSERT_OK(next);
    auto again = client->lease_keep_alive_once(*kept);
    ASSERT_OK(again);
    ASSERT_GT(*again, 0);
    if (!next.value()) continue;
    for (const auto& rev : next.value()->revisions) {
      for (const auto& ev : rev.events) {
        if (ev.kind == fleet::WatchEvent::Kind::kDelete) {
          EXPECT_EQ(ev.kv.key, "/netd/nodes/dropped");
          expired = true;
        }
      }
    }
  }
  ASSERT_TRUE(expired);
  auto gone = client->lease_keep_alive_once(*dropped);
  ASSERT_OK(gone);
  EXPECT_EQ(*gone, 0) << "an expired lease answers TTL 0";
  auto nodes = client->range_prefix("/netd/nodes/");
  ASSERT_OK(nodes);
  ASSERT_EQ(nodes->kvs.size(), 1u);
  EXPECT_EQ(nodes->kvs[0].key, "/netd/nodes/kept");

  ASSERT_OK(client->lease_revoke(*kept));
  auto after = client->range_prefix("/netd/nodes/");
  ASSERT_OK(after);
  EXPECT_TRUE(after->kvs.empty());
}

class EtcdAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_ETCD();
    ASSERT_OK_INTO(cluster_, EtcdCluster::start());
    // root (required before auth enable), and a netd user that may read and write /netd/ only.
    for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
             {"user", "add", "root:rootpw"},
             {"user", "add", "netd:netdpw"},
             {"role", "add", "netd-node"},
             {"role", "grant-permission", "netd-node", "--prefix=true", "readwrite", "/netd/"},
             {"user", "grant-role", "netd", "netd-node"},
             {"auth", "enable"}}) {
      auto r = cluster_->etcdctl(args);
      ASSERT_TRUE(r.ok()) << r.describe();
    }
  }
  std::unique_ptr<fleet::EtcdClient> client_as(const std::string& user, const std::string& password) {
    auto options = options_for(cluster_->endpoints(), std::chrono::seconds(3));
    options.user = user;
    options.password = password;
    auto client = fleet::EtcdClient::connect(options);
    EXPECT_OK(client);
    return client.ok() ? std::move(client).value() : nullptr;
  }
  std::optional<EtcdCluster> cluster_;
};

TEST_F(EtcdAuthTest, UserReadsWritesAndWatchesItsPrefixOnly) {
  auto client = client_as("netd", "netdpw");
  auto rev = client->put("/netd/slices/a", "1");
  ASSERT_OK(rev);
  auto snapshot = client->range_prefix("/netd/");
  ASSERT_OK(snapshot);
  ASSERT_EQ(snapshot->kvs.size(), 1u);
  auto watch = client->watch_prefix("/netd/", snapshot->revision + 1);
  ASSERT_OK(watch);
  auto r2 = client->put("/netd/slices/b", "2");
  ASSERT_OK(r2);
  auto batch = next_batch(**watch);
  ASSERT_OK(batch);
  ASSERT_EQ(batch->revisions.size(), 1u);
  EXPECT_EQ(batch->revisions[0].revision, *r2);

  EXPECT_ERR(client->put("/other/key", "x"), EPERM, "etcd Put /other/key on .*PERMISSION_DENIED");
  auto refused = client->watch_prefix("/other/", 1);
  ASSERT_OK(refused);
  auto refusal = next_batch(**refused);
  ASSERT_OK(refusal);
  EXPECT_TRUE(refusal->canceled);
  EXPECT_THAT(refusal->cancel_reason, ::testing::HasSubstr("permission denied"));
}

TEST_F(EtcdAuthTest, WrongPasswordAndNoUserAreRefused) {
  auto wrong = client_as("netd", "nope");
  EXPECT_ERR(wrong->range_prefix("/netd/"), EACCES, "Authenticate as 'netd'.* on http://127.0.0.1:[0-9]+");
  auto anonymous = client_for(cluster_->endpoints(), std::chrono::seconds(3));
  auto r = anonymous->range_prefix("/netd/");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, ::testing::HasSubstr("etcd Range /netd/ on"));
}

TEST_F(EtcdAuthTest, InvalidatedTokenIsRenewed) {
  auto client = client_as("netd", "netdpw");
  ASSERT_OK(client->put("/netd/slices/a", "1"));
  // A password change (here to the same one) drops the user's tokens: the next call gets
  // UNAUTHENTICATED "invalid auth token", authenticates again and goes through.
  auto passwd = run_in(nullptr, {"/usr/bin/etcdctl", "--endpoints=" + cluster_->endpoints_csv(), "--user=root:rootpw",
                                 "user", "passwd", "netd", "--interactive=false"},
                       "netdpw\n");
  ASSERT_TRUE(passwd.ok()) << passwd.describe();
  auto snapshot = client->range_prefix("/netd/");
  ASSERT_OK(snapshot);
  EXPECT_EQ(snapshot->kvs.size(), 1u);
  // A role change moves the auth store's revision. A JWT token carries the revision it was
  // issued at, so a write with it would get "revision of auth store is old" (renewed the same
  // way); etcd's default simple tokens take the current one, so here the write just goes through.
  auto grant = cluster_->etcdctl({"--user=root:rootpw", "role", "grant-permission", "netd-node", "read", "/other"});
  ASSERT_TRUE(grant.ok()) << grant.describe();
  ASSERT_OK(client->put("/netd/slices/b", "2"));
  auto watch = client->watch_prefix("/netd/", snapshot->revision + 1);
  ASSERT_OK(watch);
  auto batch = next_batch(**watch);
  ASSERT_OK(batch);
  EXPECT_EQ(batch->revisions.size(), 1u);
}

}  // namespace
}  // namespace netd::testing
