// RawFilters: the socket filter programs netd attaches to the raw and packet sockets it
// hands out (bpf/raw_filter.bpf.c). A slice's filter keeps only packets of that slice (its
// mark, its vifs, flows it sent, ports it bound, ICMP errors about its flows); the capture
// filter keeps only packets of the capture devices (uplinks). Loading a program takes
// milliseconds (verifier), a handout must take microseconds: each slice's program is loaded
// once, on first use, and its fd cached until forget()/clear() (policy reload). The programs
// read the maps of FlowRecorder (flows, ports, capture_ifaces) and VifGuard (vif_marks), shared
// by fd.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "lib/core/result.h"
#include "lib/core/unique_fd.h"

namespace netd::kernel {

// The maps the filters read. Owned: RawFilters keeps them (and so the maps) alive.
struct RawFilterMaps {
  UniqueFd flows;           // FlowRecorder::flow_map_fd()
  UniqueFd ports;           // FlowRecorder::port_map_fd()
  UniqueFd capture_ifaces;  // FlowRecorder::capture_map_fd()
  UniqueFd vif_marks;       // VifGuard's <bpffs>/vifs/vif_marks
  UniqueFd slice_epochs;    // FlowRecorder's <bpffs>/raw/slice_epochs (pinned, never owned by a filter)

  // F_DUPFD_CLOEXEC copies of borrowed fds.
  static Result<RawFilterMaps> dup(int flows, int ports, int capture_ifaces, int vif_marks, int slice_epochs);
  // Opens the pins under <bpffs_dir>/raw/ and <bpffs_dir>/vifs/ (FlowRecorder and VifGuard
  // must have been opened there): needs no accessor on VifGuard.
  static Result<RawFilterMaps> open_pinned(const std::string& bpffs_dir);
};

class RawFilters {
 public:
  // mark_mask: the skb->mark bits of slices (as for FlowRecorder and VifGuard).
  static Result<RawFilters> create(RawFilterMaps maps, uint32_t mark_mask);

  RawFilters(RawFilters&&) noexcept = default;
  RawFilters& operator=(RawFilters&&) noexcept = default;
  RawFilters(const RawFilters&) = delete;
  RawFilters& operator=(const RawFilters&) = delete;
  // Closes the cached programs; sockets they are attached to keep them (the kernel holds a
  // reference per attached socket).
  ~RawFilters() = default;

  // The filter of the slice with this mark (non-zero, within mark_mask), loaded on first use.
  // The fd is borrowed: valid until forget(slice_mark)/clear()/destruction. Not thread-safe
  // (netd's single event loop calls it).
  Result<int> slice_filter(uint32_t slice_mark);
  // The capture filter of the monitor slice with this mark (the uplinks' packets), loaded on
  // first use; borrowed like the above.
  Result<int> capture_filter(uint32_t slice_mark);

  // Drops the mark's cached programs (the next call loads fresh ones).
  void forget(uint32_t slice_mark);
  // The mark's slice was removed, its id given to another slice, or its raw rights cut:
  // every socket handed out with the mark's filters so far keeps nothing from now on (the
  // filters check the mark's epoch, which this moves on; it is pinned, so this holds across
  // restarts), and the next slice_filter()/capture_filter() loads one for the new epoch.
  Status revoke(uint32_t slice_mark);
  // Drops every cached program (e.g. after the maps were replaced).
  void clear();
  size_t cached() const { return slices_.size() + captures_.size(); }

 private:
  RawFilters(RawFilterMaps maps, uint32_t mark_mask) : maps_(std::move(maps)), mark_mask_(mark_mask) {}
  Result<UniqueFd> load(bool capture, uint32_t slice_mark);
  Result<int> cached_or_loaded(std::map<uint32_t, UniqueFd>& cache, bool capture, uint32_t slice_mark);

  RawFilterMaps maps_;
  uint32_t mark_mask_;
  std::map<uint32_t, UniqueFd> slices_;    // slice mark → loaded slice_filter
  std::map<uint32_t, UniqueFd> captures_;  // monitor's mark → loaded capture_filter
};

// SO_ATTACH_BPF `prog_fd` to the socket, then SO_LOCK_FILTER, so the socket's holder can
// neither detach nor replace the filter (both then fail with EPERM), then discards what the
// socket queued before (a raw IP socket receives from socket() on; a packet socket made with
// protocol 0 only once bound). Call before handing the socket out.
Status attach_locked_filter(int sock_fd, int prog_fd);

}  // namespace netd::kernel
