// NetdNftTable: netd's reply tagging in nftables, `table inet netd`:
//
//   map slice_marks    { type mark : verdict; }   slice mark -> jump slice_<id>
//   map slice_ct_marks { type mark : verdict; }   slice mark -> jump slice_<id>_in
//   chain mark_output     { type route hook output priority mangle;
//                           meta mark & MASK vmap @slice_marks }      (save to ct mark)
//   chain mark_prerouting { type filter hook prerouting priority mangle;
//                           ct mark & MASK vmap @slice_ct_marks }     (restore from ct mark)
//   chain slice_<id>      { ct mark set ct mark & ~MASK | MARK }
//   chain slice_<id>_in   { meta mark set meta mark & ~MASK | MARK }
//
// One map lookup per packet whatever the number of slices, and bits outside MASK of both
// the packet mark and the conntrack mark are left alone (other mark users coexist). The
// base chains are created once and only their contents change afterwards: replacing the
// whole table lets packets through unmarked while it happens.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>

#include "lib/core/result.h"

namespace netd::kernel {

class NftSocket;

class NetdNftTable {
 public:
  static constexpr const char* kTable = "netd";
  static constexpr const char* kOutputChain = "mark_output";
  static constexpr const char* kPreroutingChain = "mark_prerouting";
  static constexpr const char* kSaveMap = "slice_marks";
  static constexpr const char* kRestoreMap = "slice_ct_marks";

  // Works in the calling thread's network namespace (and stays bound to it). Creates the
  // table, maps and base chains if missing; leaves existing contents alone until
  // sync_slices() (which also rebuilds them if they were made with another mask).
  static Result<NetdNftTable> open(uint32_t mark_mask);

  // Makes the per-slice chains, the base rules and the map elements equal to `slices`
  // (slice id -> mark) in one transaction: adds, changes, removes extras. Idempotent: nothing
  // is sent when nothing differs. Marks must be non-zero, within the mask, and distinct.
  Status sync_slices(const std::map<uint32_t, uint32_t>& slices);

  // Deletes `table inet netd` in the calling thread's netns; no table is fine.
  static Status teardown();

  NetdNftTable(NetdNftTable&&) noexcept;
  NetdNftTable& operator=(NetdNftTable&&) noexcept;
  NetdNftTable(const NetdNftTable&) = delete;
  NetdNftTable& operator=(const NetdNftTable&) = delete;
  ~NetdNftTable();

  uint32_t mark_mask() const { return mark_mask_; }
  // Messages the last sync_slices() sent (0: it found nothing to change). For tests.
  size_t last_sync_messages() const { return last_sync_messages_; }

 private:
  NetdNftTable(std::unique_ptr<NftSocket> socket, uint32_t mark_mask);
  std::unique_ptr<NftSocket> socket_;
  uint32_t mark_mask_ = 0;
  size_t last_sync_messages_ = 0;
};

}  // namespace netd::kernel
