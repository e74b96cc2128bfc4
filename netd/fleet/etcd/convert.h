// etcd's protobuf messages to the fleet's plain types. Private to netd_etcd (unit-tested on
// hand-built messages: tests/unit/fleet/etcd_convert_test.cc).
#pragma once

#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"
#include "netd/fleet/etcd/etcd_types.h"
#include "netd/fleet/etcd/etcd_watch.h"

namespace netd::fleet {

KeyValue key_value_of(const mvccpb::KeyValue& kv);

// One watch response as a batch: its events grouped into revisions by mod_revision (etcd sends
// them in revision order; a transaction's events share one), the flags as they were sent.
WatchBatch batch_of(const etcdserverpb::WatchResponse& response);

}  // namespace netd::fleet
