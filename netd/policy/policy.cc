#include "netd/policy/policy.h"

#include <algorithm>
#include <atomic>
#include <optional>

namespace netd::policy {

const char* to_string(PolicySource source) { return source == PolicySource::kEtcd ? "etcd" : "file"; }

uint64_t SliceList::next_version() {
  // Process-wide, so that no two lists ever share a version by chance (a list made where a
  // freed one was, after as many changes).
  static std::atomic<uint64_t> last{0};
  return ++last;
}

SliceSpec& SliceList::edit(size_t i) {
  // Every spec is made as a (non-const) SliceSpec by push_back or by the loader, so changing
  // one that this list alone holds is changing a mutable object.
  if (specs_[i].use_count() > 1) specs_[i] = std::make_shared<SliceSpec>(*specs_[i]);
  version_ = next_version();  // the index holds views of the names
  return const_cast<SliceSpec&>(*specs_[i]);
}

int Policy::mark_shift() const {
  return netd.mark_mask == 0 ? 0 : __builtin_ctz(netd.mark_mask);
}

namespace {

// By key, then position: equal keys stay in load order, as a stable sort would keep them,
// without the stable sort's buffer (a reload at 4096 slices builds four of these).
template <typename Key>
void sort_by_key(std::vector<std::pair<Key, uint32_t>>& entries) {
  std::sort(entries.begin(), entries.end());
}

// The position of the first entry with `key`, if any.
template <typename Key, typename Probe>
std::optional<uint32_t> position_of(const std::vector<std::pair<Key, uint32_t>>& entries, const Probe& key) {
  auto it = std::lower_bound(entries.begin(), entries.end(), key, [](const auto& e, const Probe& k) { return e.first < k; });
  if (it == entries.end() || !(it->first == key)) return std::nullopt;
  return it->second;
}

}  // namespace

const Policy::SliceIndex& Policy::index() const {
  if (!index_ || index_->list != slices.identity() || index_->size != slices.size()) {
    auto made = std::make_shared<SliceIndex>();
    made->list = slices.identity();
    made->size = slices.size();
    made->by_id.reserve(slices.size());
    made->by_name.reserve(slices.size());
    for (uint32_t i = 0; i < slices.size(); ++i) {
      const SliceSpec& s = slices[i];
      made->by_id.emplace_back(s.id, i);
      made->by_name.emplace_back(s.name, i);
      for (uid_t uid : s.uids) made->by_uid.emplace_back(uid, i);
      for (gid_t gid : s.gids) made->by_gid.emplace_back(gid, i);
    }
    sort_by_key(made->by_id);
    sort_by_key(made->by_name);
    sort_by_key(made->by_uid);
    sort_by_key(made->by_gid);
    index_ = std::move(made);
  }
  return *index_;
}

const SliceSpec* Policy::find_by_name(std::string_view name) const {
  auto at = position_of(index().by_name, name);
  return at ? &slices[*at] : nullptr;
}

const SliceSpec* Policy::find_by_id(uint32_t id) const {
  auto at = position_of(index().by_id, id);
  return at ? &slices[*at] : nullptr;
}

const SliceSpec* Policy::find_member(uid_t uid, gid_t gid, const std::vector<gid_t>& supplementary) const {
  const SliceIndex& index_now = index();
  if (auto at = position_of(index_now.by_uid, uid)) return &slices[*at];
  if (auto at = position_of(index_now.by_gid, gid)) return &slices[*at];
  for (gid_t g : supplementary)
    if (auto at = position_of(index_now.by_gid, g)) return &slices[*at];
  return nullptr;
}

bool Policy::is_admin(uid_t uid) const {
  return std::find(netd.admins.begin(), netd.admins.end(), uid) != netd.admins.end();
}

}  // namespace netd::policy
