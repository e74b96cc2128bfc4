// What `table inet netd` should hold for a NftWanted: chain, set and map names, rules and
// elements (the layout is drawn in netd_nft_table.h), and which NftWanted are refused.
// Pure: no kernel access; NetdNftTable plans and commits the difference.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/core/result.h"
#include "netd/kernel/nft/netd_nft_table.h"
#include "netd/kernel/nft/table_plan.h"

namespace netd::kernel {

// EINVAL naming the offending slice, vif or uplink when `wanted` would misroute or mislabel
// packets, or cannot be expressed (see NetdNftTable::sync).
Status check_wanted(uint32_t mark_mask, const NftWanted& wanted);

// The table for `wanted` (which check_wanted accepted). With `previous` (what the table holds,
// as netd's last sync made it): a partial layout (WantedTable::partial) of the slices and vifs
// that differ, plus the base chains and small sets whole, so its cost follows the change and
// not the number of slices.
WantedTable netd_table_layout(uint32_t mark_mask, const NftWanted& wanted, const NftWanted* previous = nullptr);

// For a wanted that differs from `previous` (what the table holds) only in the marks of the
// slices `ids` (added, removed or given another mark): their chains and map elements, the base
// chains and small sets whole, nothing of the vifs, so a reload that adds one slice costs one
// slice whatever the number of slices. Nullopt when more differs than that can say (an id owns
// a vif or send devices, or the raw flag, conntrack, flow log or number of vifs changed): the
// caller lays the table out with netd_table_layout.
std::optional<WantedTable> netd_slices_layout(uint32_t mark_mask, const NftWanted& wanted, const NftWanted& previous,
                                              const std::vector<uint32_t>& ids);

// check_wanted's refusals for the marks of the slices `ids` of `wanted` only (the rest was
// checked before): 0, outside the mask, or another slice's.
Status check_slice_marks(uint32_t mark_mask, const NftWanted& wanted, const std::vector<uint32_t>& ids);

std::string slice_save_chain(uint32_t slice_id);       // slice_7
std::string slice_restore_chain(uint32_t slice_id);    // slice_7_in
std::string slice_vif_in_chain(uint32_t slice_id);     // slice_7_vif_in

}  // namespace netd::kernel
