// The etcd client against one real etcd: consistent reads of a prefix at a revision, a watch
// from the next revision, compaction, progress notifications, cancellation.
#include <thread>

#include "tests/integration/fleet/etcd_test_support.h"

namespace netd::testing {
namespace {

using fleet::WatchEvent;

class EtcdReadWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_ETCD();
    EtcdClusterSpec spec;
    spec.progress_notify_interval = std::chrono::milliseconds(300);
    ASSERT_OK_INTO(cluster_, EtcdCluster::start(spec));
    client_ = client_for(cluster_->endpoints());
    ASSERT_NE(client_, nullptr);
  }
  int64_t put(const std::string& key, const std::string& value) {
    auto rev = client_->put(key, value);
    EXPECT_OK(rev);
    return rev.ok() ? *rev : 0;
  }

  std::optional<EtcdCluster> cluster_;
  std::unique_ptr<fleet::EtcdClient> client_;
};

TEST_F(EtcdReadWatchTest, RangeReadsThePrefixAtARevision) {
  put("/netd/slices/a", "id = 1");
  int64_t r1 = put("/netd/slices/b", "id = 2");
  put("/netdx", "not under /netd/");  // shares the bytes, not the prefix
  put("/netd/slices/a", "id = 3");
  ASSERT_OK(client_->delete_key("/netd/slices/b"));

  auto now = client_->range_prefix("/netd/");
  ASSERT_OK(now);
  EXPECT_GT(now->revision, r1);
  ASSERT_EQ(now->kvs.size(), 1u);
  EXPECT_EQ(now->kvs[0].key, "/netd/slices/a");
  EXPECT_EQ(now->kvs[0].value, "id = 3");

  auto then = client_->range_prefix("/netd/", r1);
  ASSERT_OK(then);
  EXPECT_EQ(then->revision, r1);
  ASSERT_EQ(then->kvs.size(), 2u);
  EXPECT_EQ(then->kvs[0].key, "/netd/slices/a");
  EXPECT_EQ(then->kvs[0].value, "id = 1");
  EXPECT_EQ(then->kvs[1].key, "/netd/slices/b");
  EXPECT_EQ(then->kvs[1].mod_revision, r1);
  EXPECT_EQ(then->kvs[1].create_revision, r1);
}

TEST_F(EtcdReadWatchTest, RangeReadsMoreKeysThanAPageAtOneRevision) {
  const int64_t count = fleet::EtcdClient::kRangePageSize + 200;
  auto etcdctl_txn = [&](int64_t from, int64_t to) {  // many puts per request: fewer fsyncs
    std::string ops;
    for (int64_t i = from; i < to; ++i) ops += "put /netd/slices/s" + std::to_string(10000 + i) + " v\n";
    return run_in(nullptr, {"/usr/bin/etcdctl", "--endpoints=" + cluster_->endpoints_csv(), "txn"}, "\n" + ops + "\n\n");
  };
  for (int64_t from = 0; from < count; from += 100) {  // etcd's --max-txn-ops is 128
    auto r = etcdctl_txn(from, std::min(count, from + 100));
    ASSERT_TRUE(r.ok()) << r.describe();
  }
  auto snapshot = client_->range_prefix("/netd/");
  ASSERT_OK(snapshot);
  ASSERT_EQ(static_cast<int64_t>(snapshot->kvs.size()), count);
  for (int64_t i = 0; i < count; ++i) EXPECT_EQ(snapshot->kvs[i].key, "/netd/slices/s" + std::to_string(10000 + i));
  for (const auto& kv : snapshot->kvs) EXPECT_LE(kv.mod_revision, snapshot->revision);
}

TEST_F(EtcdReadWatchTest, WatchFromNextRevisionSeesPutsAndDeletesInOrder) {
  put("/netd/slices/old", "before the snapshot");
  auto snapshot = client_->range_prefix("/netd/");
  ASSERT_OK(snapshot);
  // Written before the watch starts: etcd replays them from its history in one message, as it
  // does for a watcher catching up after a reconnect.
  int64_t r_a = put("/netd/slices/a", "1");
  int64_t r_b = put("/netd/slices/b", "2");
  auto del = client_->delete_key("/netd/slices/old");
  ASSERT_OK(del);
  put("/other/ignored", "x");
  auto watch = client_->watch_prefix("/netd/", snapshot->revision + 1);
  ASSERT_OK(watch);
  auto batches = read_events(**watch, 3);
  ASSERT_FALSE(batches.empty());
  const auto& first = batches[0];
  ASSERT_EQ(first.revisions.size(), 3u) << "the three revisions in one batch";
  EXPECT_EQ(first.revisions[0].revision, r_a);
  EXPECT_EQ(first.revisions[1].revision, r_b);
  EXPECT_EQ(first.revisions[2].revision, *del);
  EXPECT_EQ(first.revisions[0].events[0].kind, WatchEvent::Kind::kPut);
  EXPECT_EQ(first.revisions[0].events[0].kv.key, "/netd/slices/a");
  EXPECT_EQ(first.revisions[0].events[0].kv.value, "1");
  EXPECT_EQ(first.revisions[2].events[0].kind, WatchEvent::Kind::kDelete);
  EXPECT_EQ(first.revisions[2].events[0].kv.key, "/netd/slices/old");
  EXPECT_GE(first.header_revision, *del);

  // Live changes after the watch caught up, in revision order, and nothing outside the prefix.
  int64_t r_c = put("/netd/slices/c", "3");
  put("/other/ignored", "y");
  auto r_d = client_->delete_key("/netd/slices/a");
  ASSERT_OK(r_d);
  auto live = read_events(**watch, 2);
  std::vector<std::pair<int64_t, WatchEvent::Kind>> seen;
  for (const auto& b : live) {
    for (const auto& rev : b.revisions) {
      for (const auto& ev : rev.events) {
        EXPECT_EQ(ev.kv.mod_revision, rev.revision);
        seen.emplace_back(rev.revision, ev.kind);
      }
    }
  }
  std::vector<std::pair<int64_t, WatchEvent::Kind>> want = {{r_c, WatchEvent::Kind::kPut},
                                                            {*r_d, WatchEvent::Kind::kDelete}};
  EXPECT_EQ(seen, want);
}

TEST_F(EtcdReadWatchTest, TransactionIsOneRevisionWithSeveralEvents) {
  auto snapshot = client_->range_prefix("/netd/");
  ASSERT_OK(snapshot);
  auto watch = client_->watch_prefix("/netd/", snapshot->revision + 1);
  ASSERT_OK(watch);
  auto r = run_in(nullptr, {"/usr/bin/etcdctl", "--endpoints=" + cluster_->endpoints_csv(), "txn"},
                  "\nput /netd/slices/x 1\nput /netd/slices/y 2\n\n\n");
  ASSERT_TRUE(r.ok()) << r.describe();
  auto batches = read_events(**watch, 2);
  ASSERT_EQ(batches.size(), 1u);
  ASSERT_EQ(batches[0].revisions.size(), 1u);
  EXPECT_EQ(batches[0].revisions[0].events.size(), 2u);
}

TEST_F(EtcdReadWatchTest, WatchAndRangeBelowTheCompactionAreRefused) {
  int64_t r1 = put("/netd/slices/a", "1");
  put("/netd/slices/a", "2");
  int64_t r3 = put("/netd/slices/a", "3");
  auto compact = cluster_->etcdctl({"compact", std::to_string(r3)});
  ASSERT_TRUE(compact.ok()) << compact.describe();

  auto old = client_->range_prefix("/netd/", r1);
  EXPECT_ERR(old, ERANGE, "compacted");

  auto watch = client_->watch_prefix("/netd/", r1 + 1);
  ASSERT_OK(watch);
  auto batch = next_batch(**watch);
  ASSERT_OK(batch);
  EXPECT_TRUE(batch->compacted);
  EXPECT_TRUE(batch->canceled);
  EXPECT_EQ(batch->compact_revision, r3);
  EXPECT_TRUE(batch->revisions.empty());
  EXPECT_ERR((*watch)->next(std::chrono::seconds(1)), ERANGE, "canceled: compacted at revision " + std::to_string(r3));
}

TEST_F(EtcdReadWatchTest, QuietPrefixGetsProgressNotifications) {
  auto snapshot = client_->range_prefix("/netd/");
  ASSERT_OK(snapshot);
  auto watch = client_->watch_prefix("/netd/", snapshot->revision + 1);
  ASSERT_OK(watch);
  int64_t elsewhere = put("/other/key", "moves the store's revision, not the prefix");
  // Sent by the server every 300 ms (the cluster's interval): the resume point advances even
  // though nothing under the prefix changed.
  bool advanced = eventually([&] {
    auto next = (*watch)->next(std::chrono::milliseconds(500));
    return next.ok() && next.value() && next.value()->progress && next.value()->header_revision >= elsewhere;
  });
  EXPECT_TRUE(advanced);
}

TEST_F(EtcdReadWatchTest, ProgressOnRequest) {
  EtcdClusterSpec spec;  // etcd's default interval (10 min): only the request can bring one
  ASSERT_OK_INTO(cluster_, EtcdCluster::start(spec));
  client_ = client_for(cluster_->endpoints());
  auto watch = client_->watch_prefix("/netd/", 1);
  ASSERT_OK(watch);
  int64_t elsewhere = put("/other/key", "x");
  ASSERT_OK((*watch)->request_progress());
  auto next = (*watch)->next(kEventTimeout);
  ASSERT_OK(next);
  ASSERT_TRUE(next.value().has_value());
  EXPECT_TRUE(next.value()->progress);
  EXPECT_GE(next.value()->header_revision, elsewhere);
}

TEST_F(EtcdReadWatchTest, CancelFromAnotherThreadEndsABlockedNext) {
  auto watch = client_->watch_prefix("/netd/", 1);
  ASSERT_OK(watch);
  std::optional<Result<std::optional<fleet::WatchBatch>>> result;
  std::thread reader([&] {
    while (true) {
      auto next = (*watch)->next(std::chrono::minutes(1));
      if (!next.ok() || (next.value() && !next.value()->progress)) {
        result.emplace(std::move(next));
        return;
      }
    }
  });
  (*watch)->cancel();
  reader.join();
  ASSERT_TRUE(result.has_value());
  EXPECT_ERR(*result, ECANCELED, "Watch on http://127.0.0.1:[0-9]+: CANCELLED");
}

}  // namespace
}  // namespace netd::testing
