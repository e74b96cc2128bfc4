// Making a BPF hash map's contents equal to a desired std::map, and reading it back.
// `Map` is a std::map whose key_type is the kernel map's key (trivially copyable, exactly
// key_size bytes) and whose mapped_type is the kernel map's value; `key_text` names a key in
// errors.
#pragma once

#include <bpf/bpf.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <type_traits>

#include "lib/core/result.h"
#include "netd/kernel/bpf/map_changes.h"

namespace netd::kernel {

// The current contents (for tests and reconciliation).
template <typename Map, typename KeyText>
Result<Map> read_bpf_map(int map_fd, const std::string& name, KeyText key_text) {
  using Key = typename Map::key_type;
  static_assert(std::is_trivially_copyable_v<Key> && std::is_trivially_copyable_v<typename Map::mapped_type>);
  Map contents;
  Key key{}, next{};
  const void* prev = nullptr;  // nullptr: first key
  while (bpf_map_get_next_key(map_fd, prev, &next) == 0) {
    typename Map::mapped_type value{};
    if (bpf_map_lookup_elem(map_fd, &next, &value) == 0) {
      contents[next] = value;
    } else if (errno != ENOENT) {  // ENOENT: deleted meanwhile
      return errno_error("reading " + name + " key " + key_text(next));
    }
    key = next;
    prev = &key;
  }
  if (errno != ENOENT) return errno_error("iterating " + name);
  return contents;
}

// Adds/updates first, then deletes keys not desired, so a key that stays is never missing in
// between.
template <typename Map, typename KeyText>
Status sync_bpf_map(int map_fd, const std::string& name, const Map& desired, KeyText key_text) {
  NETD_ASSIGN_OR_RETURN(Map current, read_bpf_map<Map>(map_fd, name, key_text));
  for (const auto& [key, value] : desired) {
    auto it = current.find(key);
    if (it != current.end() && it->second == value) continue;
    if (bpf_map_update_elem(map_fd, &key, &value, BPF_ANY) != 0)
      return errno_error("setting " + name + "[" + key_text(key) + "] = " + std::to_string(value));
  }
  for (const auto& entry : current) {
    if (desired.count(entry.first) != 0) continue;
    if (bpf_map_delete_elem(map_fd, &entry.first) != 0 && errno != ENOENT)
      return errno_error("deleting " + name + "[" + key_text(entry.first) + "]");
  }
  return ok_status();
}

// The u32 → u32 case (uid/gid/ifindex → mark).
Status sync_u32_map(int map_fd, const std::string& name, const std::map<uint32_t, uint32_t>& desired);
Result<std::map<uint32_t, uint32_t>> read_u32_map(int map_fd, const std::string& name);

namespace detail {
// Bumped by forget_map_mirrors(); a mirror that synced under an older value reads its map.
// One counter for every mirror rather than a forget() on each: the mirrors sit inside many
// kernel handles (tagging, ports, vif guard, shaping), and netd is single-threaded.
inline uint64_t map_mirror_epoch = 0;
}  // namespace detail

// Every BpfMapMirror reads its map again at its next sync: netd's scheduled check of the
// kernel ([netd] verify_interval), in case root changed a pinned map behind netd's back.
inline void forget_map_mirrors() { ++detail::map_mirror_epoch; }

// sync_bpf_map with a memory of what it wrote. The first sync (and the one after a failure)
// reads the map (so does the first after forget_map_mirrors()); later ones change only what differs from the previous sync's `desired`, so a
// sync costs the change, not the map's size (a map read is two system calls per key). Right
// because netd is the map's only writer (it is pinned under netd's bpffs directory, root's);
// a restart reads it again.
template <typename Map>
class BpfMapMirror {
 public:
  template <typename KeyText>
  Status sync(int map_fd, const std::string& name, const Map& desired, KeyText key_text) {
    if (!written_ || epoch_ != detail::map_mirror_epoch) {
      written_.reset();
      NETD_TRY(sync_bpf_map(map_fd, name, desired, key_text));
      written_ = desired;
      epoch_ = detail::map_mirror_epoch;
      return ok_status();
    }
    // As sync_bpf_map: adds and updates first, then deletions.
    Map was = std::move(*written_);
    written_.reset();  // until this sync is through, nothing is known
    for (const auto& [key, value] : desired) {
      auto it = was.find(key);
      if (it != was.end() && it->second == value) continue;
      if (bpf_map_update_elem(map_fd, &key, &value, BPF_ANY) != 0)
        return errno_error("setting " + name + "[" + key_text(key) + "] = " + std::to_string(value));
    }
    for (const auto& [key, value] : was) {
      if (desired.count(key) != 0) continue;
      if (bpf_map_delete_elem(map_fd, &key) != 0 && errno != ENOENT)
        return errno_error("deleting " + name + "[" + key_text(key) + "]");
    }
    written_ = desired;
    return ok_status();
  }

  // Changes only the keys named: `set` added or updated, then `unset` deleted (those not in
  // `set`). Refused (ESTALE), with nothing written, while what the map holds is unknown: before
  // the first sync, after a failure, after forget_map_mirrors(); sync it whole then.
  template <typename Keys, typename KeyText>
  Status update(int map_fd, const std::string& name, const Map& set, const Keys& unset, KeyText key_text) {
    if (!written_ || epoch_ != detail::map_mirror_epoch)
      return make_error(ESTALE, name + ": its contents are unknown (not synced since a failure or a check), sync it whole");
    Map& was = *written_;
    for (const auto& [key, value] : set) {
      auto it = was.find(key);
      if (it != was.end() && it->second == value) continue;
      if (bpf_map_update_elem(map_fd, &key, &value, BPF_ANY) != 0) {
        written_.reset();
        return errno_error("setting " + name + "[" + key_text(key) + "] = " + std::to_string(value));
      }
      was.insert_or_assign(key, value);
    }
    for (const auto& key : unset) {
      auto it = was.find(key);
      if (it == was.end() || set.count(key) != 0) continue;
      if (bpf_map_delete_elem(map_fd, &key) != 0 && errno != ENOENT) {
        written_.reset();
        return errno_error("deleting " + name + "[" + key_text(key) + "]");
      }
      was.erase(it);
    }
    return ok_status();
  }

 private:
  std::optional<Map> written_;
  uint64_t epoch_ = 0;  // detail::map_mirror_epoch when written_ was read from the map
};

// The u32 → u32 case (uid/gid/ifindex → mark).
class U32MapMirror {
 public:
  Status sync(int map_fd, const std::string& name, const std::map<uint32_t, uint32_t>& desired);
  Status update(int map_fd, const std::string& name, const U32MapChanges& changes);

 private:
  BpfMapMirror<std::map<uint32_t, uint32_t>> mirror_;
};

// EINVAL unless `mark` lies within `mask`: "<context>: mark 0x00000001 of <whose> has bits
// outside mark_mask 0x0fff0000". Checked before any map changes, so a bad request changes
// nothing.
Status check_mark_in_mask(const std::string& context, uint32_t mark, uint32_t mask, const std::string& whose);

std::string hex32(uint32_t value);  // "0x0fff0000"

}  // namespace netd::kernel
