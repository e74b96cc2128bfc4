#include "netd/kernel/bpf/raw_filters.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sys/socket.h>

#include "netd/kernel/bpf/bpf_skeleton.h"
#include "netd/kernel/bpf/bpffs.h"
#include "netd/kernel/bpf/map_sync.h"
#include "raw_filter.skel.h"

#ifndef SO_ATTACH_BPF
#define SO_ATTACH_BPF 50
#endif
#ifndef SO_LOCK_FILTER
#define SO_LOCK_FILTER 44
#endif

namespace netd::kernel {
namespace {

using RawFilterSkeleton = NETD_BPF_SKELETON(raw_filter_bpf);

Result<UniqueFd> dup_fd(int fd, const char* what) {
  if (fd < 0) return make_error(EBADF, std::string("raw filters: no ") + what + " map fd");
  UniqueFd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (!copy.valid()) return errno_error(std::string("raw filters: dup of the ") + what + " map fd");
  return copy;
}

Result<UniqueFd> open_required_pin(const std::string& path) {
  NETD_ASSIGN_OR_RETURN(UniqueFd fd, open_pin(path));
  if (!fd.valid()) return make_error(ENOENT, "raw filters: nothing pinned at " + path);
  return fd;
}

// The epoch of the mark's current owner; the first socket of a mark starts it at 1.
Result<uint32_t> current_epoch(int map_fd, uint32_t mark) {
  uint32_t epoch = 0;
  if (bpf_map_lookup_elem(map_fd, &mark, &epoch) == 0) return epoch;
  if (errno != ENOENT) return errno_error("raw filters: reading the epoch of mark " + hex32(mark));
  epoch = 1;
  if (bpf_map_update_elem(map_fd, &mark, &epoch, BPF_NOEXIST) != 0)
    return errno_error("raw filters: starting the epoch of mark " + hex32(mark));
  return epoch;
}

// An upper bound on the datagrams a fresh socket can have queued (its receive buffer in
// minimal packets); stops a flood from keeping attach_locked_filter busy.
constexpr int kMaxDrain = 4096;

}  // namespace

Result<RawFilterMaps> RawFilterMaps::dup(int flows, int ports, int capture_ifaces, int vif_marks, int slice_epochs) {
  RawFilterMaps maps;
  NETD_ASSIGN_OR_RETURN(maps.flows, dup_fd(flows, "flows"));
  NETD_ASSIGN_OR_RETURN(maps.ports, dup_fd(ports, "ports"));
  NETD_ASSIGN_OR_RETURN(maps.capture_ifaces, dup_fd(capture_ifaces, "capture_ifaces"));
  NETD_ASSIGN_OR_RETURN(maps.vif_marks, dup_fd(vif_marks, "vif_marks"));
  NETD_ASSIGN_OR_RETURN(maps.slice_epochs, dup_fd(slice_epochs, "slice_epochs"));
  return maps;
}

Result<RawFilterMaps> RawFilterMaps::open_pinned(const std::string& bpffs_dir) {
  // Pin paths as FlowRecorder (raw/) and VifGuard (vifs/) make them.
  RawFilterMaps maps;
  NETD_ASSIGN_OR_RETURN(maps.flows, open_required_pin(bpffs_dir + "/raw/flows"));
  NETD_ASSIGN_OR_RETURN(maps.ports, open_required_pin(bpffs_dir + "/raw/ports"));
  NETD_ASSIGN_OR_RETURN(maps.capture_ifaces, open_required_pin(bpffs_dir + "/raw/capture_ifaces"));
  NETD_ASSIGN_OR_RETURN(maps.vif_marks, open_required_pin(bpffs_dir + "/vifs/vif_marks"));
  NETD_ASSIGN_OR_RETURN(maps.slice_epochs, open_required_pin(bpffs_dir + "/raw/slice_epochs"));
  return maps;
}

Result<RawFilters> RawFilters::create(RawFilterMaps maps, uint32_t mark_mask) {
  if (mark_mask == 0) return make_error(EINVAL, "raw filters: mark_mask is 0");
  for (const UniqueFd* fd : {&maps.flows, &maps.ports, &maps.capture_ifaces, &maps.vif_marks, &maps.slice_epochs})
    if (!fd->valid()) return make_error(EBADF, "raw filters: a map fd is missing");
  return RawFilters(std::move(maps), mark_mask);
}

Result<UniqueFd> RawFilters::load(bool capture, uint32_t slice_mark) {
  const std::string name = std::string("raw_filter (") + (capture ? "capture" : "slice") + " " + hex32(slice_mark) + ")";
  NETD_ASSIGN_OR_RETURN(RawFilterSkeleton skel, RawFilterSkeleton::open(name));
  skel->rodata->slice_mark = slice_mark;
  skel->rodata->mark_mask = mark_mask_;
  NETD_ASSIGN_OR_RETURN(skel->rodata->slice_epoch, current_epoch(maps_.slice_epochs.get(), slice_mark));
  // Only the wanted program goes through the verifier.
  bpf_program__set_autoload(skel->progs.slice_filter, !capture);
  bpf_program__set_autoload(skel->progs.capture_filter, capture);
  // Every map is reused: the object creates none of its own, so the filters read exactly
  // what FlowRecorder and VifGuard write. reuse_fd dups the fd.
  const std::pair<struct bpf_map*, const UniqueFd*> maps[] = {{skel->maps.flows, &maps_.flows},
                                                              {skel->maps.ports, &maps_.ports},
                                                              {skel->maps.capture_ifaces, &maps_.capture_ifaces},
                                                              {skel->maps.vif_marks, &maps_.vif_marks},
                                                              {skel->maps.slice_epochs, &maps_.slice_epochs}};
  for (const auto& [map, fd] : maps) {
    if (int err = bpf_map__reuse_fd(map, fd->get()); err != 0)
      return errno_error(name + ": reusing map " + bpf_map__name(map), -err);
  }
  NETD_TRY(skel.load());
  // The program outlives the skeleton (destroyed on return) through this fd.
  struct bpf_program* prog = capture ? skel->progs.capture_filter : skel->progs.slice_filter;
  UniqueFd fd(::fcntl(bpf_program__fd(prog), F_DUPFD_CLOEXEC, 0));
  if (!fd.valid()) return errno_error(name + ": dup of the program fd");
  return fd;
}

Result<int> RawFilters::cached_or_loaded(std::map<uint32_t, UniqueFd>& cache, bool capture, uint32_t slice_mark) {
  if (auto it = cache.find(slice_mark); it != cache.end()) return it->second.get();
  // Mark 0 would keep every unmarked packet (rule a of the slice filter).
  if (slice_mark == 0) return make_error(EINVAL, "raw filters: slice mark is 0");
  NETD_TRY(check_mark_in_mask("raw filters", slice_mark, mark_mask_, "the slice"));
  NETD_ASSIGN_OR_RETURN(UniqueFd fd, load(capture, slice_mark));
  int raw = fd.get();
  cache.emplace(slice_mark, std::move(fd));
  return raw;
}

Result<int> RawFilters::slice_filter(uint32_t slice_mark) { return cached_or_loaded(slices_, false, slice_mark); }

Result<int> RawFilters::capture_filter(uint32_t slice_mark) { return cached_or_loaded(captures_, true, slice_mark); }

void RawFilters::forget(uint32_t slice_mark) {
  slices_.erase(slice_mark);
  captures_.erase(slice_mark);
}

Status RawFilters::revoke(uint32_t slice_mark) {
  forget(slice_mark);
  uint32_t epoch = 0;
  if (bpf_map_lookup_elem(maps_.slice_epochs.get(), &slice_mark, &epoch) != 0) {
    if (errno == ENOENT) return ok_status();  // no socket was ever handed out with this mark
    return errno_error("raw filters: reading the epoch of mark " + hex32(slice_mark));
  }
  ++epoch;
  if (bpf_map_update_elem(maps_.slice_epochs.get(), &slice_mark, &epoch, BPF_EXIST) != 0)
    return errno_error("raw filters: moving on the epoch of mark " + hex32(slice_mark));
  return ok_status();
}

void RawFilters::clear() {
  slices_.clear();
  captures_.clear();
}

Status attach_locked_filter(int sock_fd, int prog_fd) {
  if (::setsockopt(sock_fd, SOL_SOCKET, SO_ATTACH_BPF, &prog_fd, sizeof prog_fd) != 0)
    return errno_error("attaching the socket filter (SO_ATTACH_BPF)");
  int on = 1;
  if (::setsockopt(sock_fd, SOL_SOCKET, SO_LOCK_FILTER, &on, sizeof on) != 0)
    return errno_error("locking the socket filter (SO_LOCK_FILTER)");
  // Datagrams queued before the filter was there never passed it: discard them. MSG_TRUNC
  // drops a whole datagram whatever its size.
  char byte;
  for (int i = 0; i < kMaxDrain; ++i) {
    if (::recv(sock_fd, &byte, sizeof byte, MSG_DONTWAIT | MSG_TRUNC) < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return ok_status();
      if (errno == EINTR) continue;
      return errno_error("discarding packets queued before the socket filter");
    }
  }
  return ok_status();
}

}  // namespace netd::kernel
