// ShapeClassifier: the egress classifier of per-slice shaping (bpf/shape_classify.bpf.c).
// On each uplink a tcx egress program writes the slice's HTB classid into skb->priority from
// a mark → classid map, so the uplink's HTB root needs no filters (O(1) per packet). The
// map and one bpf_link per device are pinned under <bpffs_dir>/shaping/, so classification
// keeps working while netd is down and a restarted netd adopts it. The HTB qdisc and classes
// themselves are not made here.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lib/core/result.h"

namespace netd::kernel {

struct ShapeClassifierConfig {
  std::string bpffs_dir;   // e.g. /sys/fs/bpf/netd; pins go to <bpffs_dir>/shaping/
  uint32_t mark_mask = 0;  // skb->mark bits that hold the slice id
};

// The refusals of sync (ShapeClassifier's and IngressClassifier's): EINVAL, prefixed by
// `context`, unless every mark lies within mark_mask and every classid names an HTB leaf class
// (major and minor other than 0, major other than 0xffff; minor 0 is the qdisc itself, where
// HTB would send the packet unshaped).
Status check_shape_classes(const std::string& context, const std::map<uint32_t, uint32_t>& classes,
                           uint32_t mark_mask);

class ShapeClassifier {
 public:
  // Pin names under <bpffs_dir>/shaping/: the map, and egress_<ifindex> per device.
  static constexpr const char* kDir = "shaping";
  static constexpr const char* kClassMapPin = "classes";
  static constexpr const char* kEgressLinkPrefix = "egress_";

  // Loads the program and adopts the pinned map (contents kept) or creates and pins it.
  // Creates bpffs_dir if missing (its parent must be on bpffs). Attaches nothing: links
  // already pinned keep running the program they have until attach() swaps this one in.
  static Result<ShapeClassifier> open(const ShapeClassifierConfig& config);

  // Classifies the egress of device `ifindex` (in the calling thread's netns; pins name
  // devices by ifindex only, so all of them must be in netd's netns). Adopts the link pinned
  // for it (its program is replaced with one update, so the hook never runs empty) or
  // attaches a new tcx link at BPF_TCX_EGRESS and pins it. A pinned link whose device is
  // gone (or that is not a tcx egress link of this ifindex) is detached and replaced.
  Status attach(int ifindex);
  // Detaches the device's link (even if someone still holds an fd to it) and removes its pin.
  // Nothing attached is fine.
  Status detach(int ifindex);
  // The ifindexes that have a pinned link (for reconciliation: detach those not wanted).
  Result<std::vector<int>> attached() const;
  // The same without loading anything (--teardown).
  static Result<std::vector<int>> attached_in(const std::string& bpffs_dir);

  // Makes the map equal to `classes` (slice mark → HTB classid; mark 0 = the default class
  // for unmarked traffic and slices without an entry): adds/updates, then deletes entries
  // not present. Marks must lie within mark_mask; a classid needs a major and a minor other
  // than 0 and a major other than 0xffff (minor 0 is the qdisc itself: HTB would send the
  // packet unshaped). Nothing changes if any entry is refused.
  Status sync(const std::map<uint32_t, uint32_t>& classes);
  Result<std::map<uint32_t, uint32_t>> classes() const;

  // Detaches every pinned egress link, removes the pins and the shaping/ directory, and
  // bpffs_dir itself if nothing else is left in it. Missing pieces are fine. The other pins
  // under shaping/ go first (IngressClassifier::teardown, ShapeLimitStore::teardown):
  // anything left there fails the rmdir (ENOTEMPTY).
  static Status teardown(const std::string& bpffs_dir);

  ShapeClassifier(ShapeClassifier&&) noexcept;
  ShapeClassifier& operator=(ShapeClassifier&&) noexcept;
  ShapeClassifier(const ShapeClassifier&) = delete;
  ShapeClassifier& operator=(const ShapeClassifier&) = delete;
  // Closes fds only: pinned links stay attached.
  ~ShapeClassifier();

  uint32_t mark_mask() const;

 private:
  struct State;
  explicit ShapeClassifier(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace netd::kernel
