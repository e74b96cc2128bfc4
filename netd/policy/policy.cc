#include "netd/policy/policy.h"

#include <algorithm>

namespace netd::policy {

int Policy::mark_shift() const {
  return netd.mark_mask == 0 ? 0 : __builtin_ctz(netd.mark_mask);
}

const SliceSpec* Policy::find_by_name(std::string_view name) const {
  for (const auto& s : slices)
    if (s.name == name) return &s;
  return nullptr;
}

const SliceSpec* Policy::find_by_id(uint32_t id) const {
  for (const auto& s : slices)
    if (s.id == id) return &s;
  return nullptr;
}

const SliceSpec* Policy::find_member(uid_t uid, gid_t gid, const std::vector<gid_t>& supplementary) const {
  for (const auto& s : slices)
    if (std::find(s.uids.begin(), s.uids.end(), uid) != s.uids.end()) return &s;
  for (const auto& s : slices)
    if (std::find(s.gids.begin(), s.gids.end(), gid) != s.gids.end()) return &s;
  for (gid_t g : supplementary)
    for (const auto& s : slices)
      if (std::find(s.gids.begin(), s.gids.end(), g) != s.gids.end()) return &s;
  return nullptr;
}

bool Policy::is_admin(uid_t uid) const {
  return std::find(netd.admins.begin(), netd.admins.end(), uid) != netd.admins.end();
}

}  // namespace netd::policy
