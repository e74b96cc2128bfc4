#include "netd/policy/policy.h"

#include <algorithm>

namespace netd::policy {

SliceSpec& SliceList::edit(size_t i) {
  // Every spec is made as a (non-const) SliceSpec by push_back or by the loader, so changing
  // one that this list alone holds is changing a mutable object.
  if (specs_[i].use_count() > 1) specs_[i] = std::make_shared<SliceSpec>(*specs_[i]);
  return const_cast<SliceSpec&>(*specs_[i]);
}

int Policy::mark_shift() const {
  return netd.mark_mask == 0 ? 0 : __builtin_ctz(netd.mark_mask);
}

const Policy::SliceIndex& Policy::index() const {
  if (!index_ || index_->list != slices.identity() || index_->size != slices.size()) {
    auto made = std::make_shared<SliceIndex>();
    made->list = slices.identity();
    made->size = slices.size();
    for (size_t i = 0; i < slices.size(); ++i) {
      const SliceSpec& s = slices[i];
      made->by_id.emplace(s.id, i);
      made->by_name.emplace(s.name, i);
      for (uid_t uid : s.uids) made->by_uid.emplace(uid, i);
      for (gid_t gid : s.gids) made->by_gid.emplace(gid, i);
    }
    index_ = std::move(made);
  }
  return *index_;
}

const SliceSpec* Policy::find_by_name(std::string_view name) const {
  const auto& by_name = index().by_name;
  auto it = by_name.find(std::string(name));
  return it == by_name.end() ? nullptr : &slices[it->second];
}

const SliceSpec* Policy::find_by_id(uint32_t id) const {
  const auto& by_id = index().by_id;
  auto it = by_id.find(id);
  return it == by_id.end() ? nullptr : &slices[it->second];
}

const SliceSpec* Policy::find_member(uid_t uid, gid_t gid, const std::vector<gid_t>& supplementary) const {
  const SliceIndex& at = index();
  if (auto it = at.by_uid.find(uid); it != at.by_uid.end()) return &slices[it->second];
  if (auto it = at.by_gid.find(gid); it != at.by_gid.end()) return &slices[it->second];
  for (gid_t g : supplementary)
    if (auto it = at.by_gid.find(g); it != at.by_gid.end()) return &slices[it->second];
  return nullptr;
}

bool Policy::is_admin(uid_t uid) const {
  return std::find(netd.admins.begin(), netd.admins.end(), uid) != netd.admins.end();
}

}  // namespace netd::policy
