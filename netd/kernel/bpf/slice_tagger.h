// SliceTagger: the cgroup/sock_create program that gives each socket a slice member creates
// the slice's mark (bpf/sock_create.bpf.c), attached as a bpf_link and pinned with its maps
// under <bpffs_dir>/tagging/ so tagging keeps working while netd is down or restarting.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "lib/core/result.h"
#include "netd/kernel/bpf/map_changes.h"

namespace netd::kernel {

struct TaggingConfig {
  std::string bpffs_dir;    // e.g. /sys/fs/bpf/netd; pins go to <bpffs_dir>/tagging/
  std::string cgroup_path;  // cgroup v2 directory to attach at (the root in production)
  uint32_t mark_mask = 0;   // skb->mark bits that are netd's; others are preserved
};

class SliceTagger {
 public:
  // Pin names under <bpffs_dir>/tagging/.
  static constexpr const char* kDir = "tagging";
  static constexpr const char* kLinkPin = "sock_create_link";
  static constexpr const char* kUidMapPin = "uid_marks";
  static constexpr const char* kGidMapPin = "gid_marks";

  // Adopts what is pinned (maps reused; a pinned link gets the freshly loaded program swapped
  // in with one link update, so the hook is never empty), or loads, attaches to cgroup_path
  // and pins. Creates bpffs_dir if missing (its parent must be on bpffs). A pinned link that
  // is attached elsewhere (another cgroup, or its cgroup is gone) is replaced.
  static Result<SliceTagger> open(const TaggingConfig& config);

  // Makes the maps equal to these (uid → mark, primary gid → mark): adds/updates, then
  // deletes keys not present. Marks must lie within mark_mask.
  Status sync(const std::map<uint32_t, uint32_t>& uid_marks, const std::map<uint32_t, uint32_t>& gid_marks);
  // Changes only the keys named, from what the last sync or update left (ESTALE when that is
  // unknown: a write failed since). Marks must lie within mark_mask.
  Status update(const U32MapChanges& uid_marks, const U32MapChanges& gid_marks);

  // Detaches the pinned link (even if someone still holds an fd to it), removes the pins and
  // the tagging/ directory, and bpffs_dir itself if nothing else is left in it. Missing pieces
  // are fine.
  static Status teardown(const std::string& bpffs_dir);

  SliceTagger(SliceTagger&&) noexcept;
  SliceTagger& operator=(SliceTagger&&) noexcept;
  SliceTagger(const SliceTagger&) = delete;
  SliceTagger& operator=(const SliceTagger&) = delete;
  // Closes fds only: the pinned link stays attached.
  ~SliceTagger();

  uint32_t mark_mask() const;
  // Current map contents, for reconciliation and tests.
  Result<std::map<uint32_t, uint32_t>> uid_marks() const;
  Result<std::map<uint32_t, uint32_t>> gid_marks() const;

 private:
  struct State;
  explicit SliceTagger(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace netd::kernel
