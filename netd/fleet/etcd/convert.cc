#include "netd/fleet/etcd/convert.h"

namespace netd::fleet {

KeyValue key_value_of(const mvccpb::KeyValue& kv) {
  return KeyValue{kv.key(), kv.value(), kv.mod_revision(), kv.create_revision()};
}

WatchBatch batch_of(const etcdserverpb::WatchResponse& response) {
  WatchBatch batch;
  batch.header_revision = response.header().revision();
  batch.canceled = response.canceled();
  batch.cancel_reason = response.cancel_reason();
  batch.compact_revision = response.compact_revision();
  batch.compacted = response.compact_revision() != 0;
  for (const mvccpb::Event& event : response.events()) {
    WatchEvent out{event.type() == mvccpb::Event::DELETE ? WatchEvent::Kind::kDelete : WatchEvent::Kind::kPut,
                   key_value_of(event.kv())};
    if (batch.revisions.empty() || batch.revisions.back().revision != out.kv.mod_revision) {
      batch.revisions.push_back(WatchRevision{out.kv.mod_revision, {}});
    }
    batch.revisions.back().events.push_back(std::move(out));
  }
  // etcd's own test for a progress notification (WatchResponse.IsProgressNotify).
  batch.progress = response.events_size() == 0 && !response.canceled() && !response.created() &&
                   response.compact_revision() == 0 && response.header().revision() != 0;
  return batch;
}

}  // namespace netd::fleet
