// IngressClassifier: the ingress half of per-slice shaping (bpf/shape_ingress.bpf.c). On each
// uplink a tcx ingress program finds an arriving packet's slice (the mark of the local socket
// it goes to, or its conntrack mark), writes the slice's classid into skb->priority and
// redirects the packet to the uplink's IFB, whose HTB root shapes it. Two maps (slice mark →
// classid; uplink ifindex → IFB ifindex) and one bpf_link per uplink are pinned under
// <bpffs_dir>/shaping/ beside ShapeClassifier's, so downloads stay shaped while netd is down
// and a restarted netd adopts them. The IFBs and their HTB trees are not made here
// (IfbControl, HtbControl).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lib/core/result.h"
#include "netd/kernel/bpf/shape_classifier.h"

namespace netd::kernel {

class IngressClassifier {
 public:
  // Pin names under <bpffs_dir>/shaping/ (ShapeClassifier::kDir): the two maps, and
  // ingress_<ifindex> per uplink.
  static constexpr const char* kClassMapPin = "classes_in";
  static constexpr const char* kIfbMapPin = "ifb_in";
  static constexpr const char* kIngressLinkPrefix = "ingress_";

  // Loads the program and adopts both pinned maps (contents kept) or creates and pins them.
  // Creates bpffs_dir and shaping/ if missing (bpffs_dir's parent must be on bpffs). Attaches
  // nothing: pinned links keep running the program they have until attach() swaps this one in.
  static Result<IngressClassifier> open(const ShapeClassifierConfig& config);

  // Shapes the downloads of `uplink_ifindex` on the IFB `ifb_ifindex` (both devices in the
  // calling thread's netns, ENODEV naming the one missing). Records the IFB in ifb_in first, so
  // the program never runs without knowing where to redirect, then adopts the link pinned for
  // the uplink (its program is replaced with one update) or attaches a new tcx link at
  // BPF_TCX_INGRESS and pins it. A pinned link whose device is gone (or that is not a tcx
  // ingress link of this ifindex) is detached and replaced. If the link cannot be made, the
  // ifb_in entry is put back as it was.
  Status attach(int uplink_ifindex, int ifb_ifindex);
  // Detaches the uplink's link (even if someone still holds an fd to it), removes its pin and
  // its ifb_in entry. Nothing attached is fine.
  Status detach(int uplink_ifindex);
  // The uplink ifindexes that have a pinned link (for reconciliation).
  Result<std::vector<int>> attached() const;
  // The same without loading anything (--teardown).
  static Result<std::vector<int>> attached_in(const std::string& bpffs_dir);
  // The ifb_in map: uplink ifindex → IFB ifindex.
  Result<std::map<uint32_t, uint32_t>> ifbs() const;

  // Makes classes_in equal to `classes` (slice mark → classid on the IFBs' HTB roots; mark 0
  // = the default class for packets of no slice and slices without an entry), with
  // ShapeClassifier::sync's refusals (check_shape_classes). Nothing changes if any entry is
  // refused.
  Status sync(const std::map<uint32_t, uint32_t>& classes);
  Result<std::map<uint32_t, uint32_t>> classes() const;

  // Detaches every pinned ingress link and removes the pins (links and both maps); leaves the
  // shaping/ directory to ShapeClassifier::teardown, which must run after this one. Missing
  // pieces are fine.
  static Status teardown(const std::string& bpffs_dir);

  IngressClassifier(IngressClassifier&&) noexcept;
  IngressClassifier& operator=(IngressClassifier&&) noexcept;
  IngressClassifier(const IngressClassifier&) = delete;
  IngressClassifier& operator=(const IngressClassifier&) = delete;
  // Closes fds only: pinned links stay attached.
  ~IngressClassifier();

  uint32_t mark_mask() const;

 private:
  struct State;
  explicit IngressClassifier(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace netd::kernel
