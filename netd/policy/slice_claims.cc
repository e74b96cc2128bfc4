#include "netd/policy/slice_claims.h"

#include <algorithm>
#include <unordered_set>

namespace netd::policy {

namespace {

constexpr size_t kPorts = 65536;

template <typename Map, typename Key>
void erase_if_held_by(Map& map, const Key& key, const SliceSpec* spec) {
  auto it = map.find(key);
  if (it != map.end() && it->second == spec) map.erase(it);
}

}  // namespace

void SliceClaims::add(const SliceSpec* spec) {
  names_.emplace(spec->name, spec);
  ids_.emplace(spec->id, spec);
  for (uid_t uid : spec->uids) uids_.emplace(uid, spec);
  for (gid_t gid : spec->gids) gids_.emplace(gid, spec);
  for (const Prefix& p : spec->netblock) netblocks_.emplace(NetKey{p.address(), p.length(), spec}, &p);
  if (!spec->bind_ports.empty() && ports_.empty()) ports_.assign(kPorts, nullptr);
  for (const PortRange& range : spec->bind_ports)
    for (uint32_t port = range.first; port <= range.last; ++port)
      if (ports_[port] == nullptr) ports_[port] = spec;
}

void SliceClaims::remove(const SliceSpec* spec) {
  erase_if_held_by(names_, std::string_view(spec->name), spec);
  erase_if_held_by(ids_, spec->id, spec);
  for (uid_t uid : spec->uids) erase_if_held_by(uids_, uid, spec);
  for (gid_t gid : spec->gids) erase_if_held_by(gids_, gid, spec);
  for (const Prefix& p : spec->netblock) netblocks_.erase(NetKey{p.address(), p.length(), spec});
  for (const PortRange& range : spec->bind_ports)
    for (uint32_t port = range.first; port <= range.last; ++port)
      if (ports_[port] == spec) ports_[port] = nullptr;
}

void SliceClaims::clear() {
  names_.clear();
  ids_.clear();
  uids_.clear();
  gids_.clear();
  netblocks_.clear();
  ports_.clear();
}

bool SliceClaims::conflicts(std::span<const SliceSpec* const> dropped, std::span<const SliceSpec* const> added) const {
  if (added.empty()) return false;  // fewer slices hold fewer keys
  std::unordered_set<const SliceSpec*> gone(dropped.begin(), dropped.end());
  auto held = [&](const auto& map, const auto& key) {
    auto it = map.find(key);
    return it != map.end() && gone.count(it->second) == 0;
  };

  std::unordered_set<std::string_view> names;
  std::unordered_set<uint32_t> ids, uids, gids;
  for (const SliceSpec* s : added) {
    if (held(names_, std::string_view(s->name)) || !names.insert(s->name).second) return true;
    if (held(ids_, s->id) || !ids.insert(s->id).second) return true;
    for (uid_t uid : s->uids)
      if (held(uids_, uid) || !uids.insert(uid).second) return true;
    for (gid_t gid : s->gids)
      if (held(gids_, gid) || !gids.insert(gid).second) return true;
  }

  // The held netblocks less the dropped ones overlap nowhere, and so far neither do the new ones
  // taken so far: a new prefix that overlaps any of either overlaps the nearest one on a side.
  auto overlaps_a_neighbour = [&](const std::map<NetKey, const Prefix*>& blocks, const Prefix& p) {
    auto after = blocks.lower_bound(NetKey{p.address(), p.length(), nullptr});
    for (auto it = after; it != blocks.end(); ++it) {
      if (gone.count(std::get<2>(it->first)) != 0) continue;
      if (it->second->overlaps(p)) return true;
      break;
    }
    for (auto it = after; it != blocks.begin();) {
      --it;
      if (gone.count(std::get<2>(it->first)) != 0) continue;
      if (it->second->overlaps(p)) return true;
      break;
    }
    return false;
  };
  std::map<NetKey, const Prefix*> new_blocks;
  for (const SliceSpec* s : added) {
    for (const Prefix& p : s->netblock) {
      if (overlaps_a_neighbour(netblocks_, p) || overlaps_a_neighbour(new_blocks, p)) return true;
      new_blocks.emplace(NetKey{p.address(), p.length(), s}, &p);
    }
  }

  bool any_ports = false;
  for (const SliceSpec* s : added) any_ports = any_ports || !s->bind_ports.empty();
  if (any_ports) {
    std::vector<bool> taken(kPorts, false);
    for (const SliceSpec* s : added)
      for (const PortRange& range : s->bind_ports)
        for (uint32_t port = range.first; port <= range.last; ++port) {
          if (taken[port]) return true;
          taken[port] = true;
          if (!ports_.empty() && ports_[port] != nullptr && gone.count(ports_[port]) == 0) return true;
        }
  }
  return false;
}

}  // namespace netd::policy
