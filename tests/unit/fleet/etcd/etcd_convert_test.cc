// Watch responses as batches, and gRPC statuses as errors, on hand-built messages.
#include <gtest/gtest.h>

#include "netd/fleet/etcd/convert.h"
#include "netd/fleet/etcd/grpc_error.h"

namespace netd::fleet {
namespace {

void add_event(etcdserverpb::WatchResponse& r, mvccpb::Event::EventType type, const std::string& key, int64_t rev) {
  mvccpb::Event* e = r.add_events();
  e->set_type(type);
  e->mutable_kv()->set_key(key);
  e->mutable_kv()->set_value(type == mvccpb::Event::PUT ? "v" + std::to_string(rev) : "");
  e->mutable_kv()->set_mod_revision(rev);
  e->mutable_kv()->set_create_revision(type == mvccpb::Event::PUT ? rev : 0);
}

TEST(EtcdConvertTest, EventsAreGroupedByRevisionInOrder) {
  etcdserverpb::WatchResponse r;
  r.mutable_header()->set_revision(12);
  add_event(r, mvccpb::Event::PUT, "/netd/slices/a", 10);
  add_event(r, mvccpb::Event::PUT, "/netd/slices/b", 11);  // a transaction: two events, one revision
  add_event(r, mvccpb::Event::DELETE, "/netd/slices/c", 11);
  add_event(r, mvccpb::Event::PUT, "/netd/slices/d", 12);
  WatchBatch b = batch_of(r);
  EXPECT_EQ(b.header_revision, 12);
  EXPECT_FALSE(b.progress);
  EXPECT_FALSE(b.canceled);
  EXPECT_FALSE(b.compacted);
  ASSERT_EQ(b.revisions.size(), 3u);
  EXPECT_EQ(b.revisions[0].revision, 10);
  EXPECT_EQ(b.revisions[1].revision, 11);
  ASSERT_EQ(b.revisions[1].events.size(), 2u);
  EXPECT_EQ(b.revisions[1].events[0].kind, WatchEvent::Kind::kPut);
  EXPECT_EQ(b.revisions[1].events[0].kv.value, "v11");
  EXPECT_EQ(b.revisions[1].events[1].kind, WatchEvent::Kind::kDelete);
  EXPECT_EQ(b.revisions[1].events[1].kv.key, "/netd/slices/c");
  EXPECT_EQ(b.revisions[2].events[0].kv.create_revision, 12);
}

TEST(EtcdConvertTest, ProgressCompactionAndCancelAreFlagged) {
  etcdserverpb::WatchResponse progress;
  progress.mutable_header()->set_revision(40);
  EXPECT_TRUE(batch_of(progress).progress);
  EXPECT_EQ(batch_of(progress).header_revision, 40);

  etcdserverpb::WatchResponse created = progress;
  created.set_created(true);
  EXPECT_FALSE(batch_of(created).progress) << "the creation confirmation is no progress report";

  etcdserverpb::WatchResponse compacted;
  compacted.mutable_header()->set_revision(40);
  compacted.set_canceled(true);
  compacted.set_compact_revision(30);
  compacted.set_cancel_reason("mvcc: required revision has been compacted");
  WatchBatch b = batch_of(compacted);
  EXPECT_FALSE(b.progress);
  EXPECT_TRUE(b.compacted);
  EXPECT_TRUE(b.canceled);
  EXPECT_EQ(b.compact_revision, 30);
  EXPECT_EQ(b.cancel_reason, "mvcc: required revision has been compacted");
}

TEST(EtcdGrpcErrorTest, MessageNamesCallEndpointAndStatus) {
  Error e = status_error("Range /netd/", "http://10.0.0.1:2379",
                         grpc::Status(grpc::StatusCode::OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted"));
  EXPECT_EQ(e.code, ERANGE);
  EXPECT_EQ(e.message,
            "etcd Range /netd/ on http://10.0.0.1:2379: OUT_OF_RANGE: etcdserver: mvcc: required revision has been compacted");
  EXPECT_EQ(errno_of(grpc::StatusCode::UNAVAILABLE), ECONNREFUSED);
  EXPECT_EQ(errno_of(grpc::StatusCode::DEADLINE_EXCEEDED), ETIMEDOUT);
  EXPECT_EQ(errno_of(grpc::StatusCode::PERMISSION_DENIED), EPERM);
}

TEST(EtcdGrpcErrorTest, RetryAndReauthenticationAreForTheirStatusesOnly) {
  EXPECT_TRUE(is_retryable(grpc::Status(grpc::StatusCode::UNAVAILABLE, "etcdserver: no leader")));
  EXPECT_FALSE(is_retryable(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "etcdserver: permission denied")));
  EXPECT_FALSE(is_retryable(grpc::Status(grpc::StatusCode::OUT_OF_RANGE, "compacted")));
  EXPECT_TRUE(needs_reauth(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "etcdserver: invalid auth token")));
  EXPECT_TRUE(needs_reauth(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: revision of auth store is old")));
  EXPECT_FALSE(needs_reauth(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: key is not provided")));
}

}  // namespace
}  // namespace netd::fleet
