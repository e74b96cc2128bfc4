// HtbControl: what ops may do to an uplink's HTB root qdisc and classes. HtbExecutor is the
// kernel's (rtnetlink); unit tests of ops give an in-memory tree that refuses what HTB refuses
// where ops relies on it (a class under a missing parent, deleting a class with children).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "lib/core/result.h"

namespace netd::kernel {

// A class as the kernel reports it. Rates in bit/s (HTB counts L2 bytes: the Ethernet
// header is shaped, FCS/preamble are not); buffers in bytes.
struct HtbClassState {
  uint32_t classid = 0;  // major:minor, e.g. 0x10010 = 1:10 (tc reads minors as hex)
  uint32_t parent = 0;  // TC_H_ROOT for the qdisc's own children (HTB reports them so)
  uint64_t rate_bps = 0;
  uint64_t ceil_bps = 0;
  uint32_t burst_bytes = 0;
  uint32_t cburst_bytes = 0;
  uint32_t quantum = 0;
  uint64_t bytes = 0;  // sent by the class since it was made
  uint64_t packets = 0;
  uint32_t leaf_limit_bytes = 0;  // the leaf qdisc's limit if it is a bfifo (set_leaf_bfifo), else 0
};

class HtbControl {
 public:
  virtual ~HtbControl() = default;

  // Makes the device's root qdisc an HTB with handle `handle_major`: and default class
  // `handle_major:default_minor`. Nothing is sent if that is already so (its classes and
  // their counters survive); otherwise the root is replaced (an HTB with another handle or
  // default loses its classes). default_minor must not be 0 (HTB_DIRECT: unshaped).
  virtual Status ensure_root(int ifindex, uint32_t handle_major, uint32_t default_minor) = 0;
  // Deletes the root qdisc if it is an HTB with handle `handle_major`: (the device falls
  // back to its default qdisc). Any other root is left alone; so is no root at all.
  virtual Status remove_root(int ifindex, uint32_t handle_major) = 0;

  // Adds class `classid` under `parent_classid` (0: the root qdisc itself; classid's major
  // must be the HTB handle's, and so must the parent's), or changes its rate/ceil in place
  // (same class: counters and queued packets survive; HTB cannot move a class to another
  // parent, so the parent of an existing class is not changed). ceil_bps 0 means ceil = rate.
  // Minor 0 and ceil < rate are refused. A class borrows up to its ceil only from a parent
  // class: classes directly under the qdisc never send more than their rate.
  virtual Status set_class(int ifindex, uint32_t classid, uint64_t rate_bps, uint64_t ceil_bps,
                           uint32_t parent_classid = 0) = 0;
  // Deletes the class; a class that does not exist is fine.
  virtual Status remove_class(int ifindex, uint32_t classid) = 0;
  // Makes the qdisc under leaf class `classid` a bfifo holding at most `limit_bytes` (HTB's
  // own leaf is a pfifo counted in packets, which with GRO/GSO aggregates of up to 64 KB is
  // no bound on the queue's delay). A bfifo already there is changed in place (queued packets
  // stay; the same limit again changes nothing); any other leaf is replaced. Nothing is read
  // first: a caller that wants to skip a leaf that is right already compares with classes()'s
  // leaf_limit_bytes, which costs one dump for the whole tree rather than one per class. The kernel chooses the bfifo's handle (tc shows 8001: and up): derived ones
  // could collide with the HTB's own major, and nothing refers to the leaf by handle. The
  // class must exist (ENOENT otherwise); limit_bytes 0 (drop everything) is refused.
  virtual Status set_leaf_bfifo(int ifindex, uint32_t classid, uint32_t limit_bytes) = 0;
  // Every HTB class of the device, by classid.
  virtual Result<std::vector<HtbClassState>> classes(int ifindex) = 0;
  // One class, asked for by its id (the kernel looks it up: no dump of thousands of classes
  // and their leaves); nullopt when the device has no such class or no HTB of that major.
  // leaf_limit_bytes is not read (0).
  virtual Result<std::optional<HtbClassState>> find_class(int ifindex, uint32_t classid) = 0;
};

}  // namespace netd::kernel
