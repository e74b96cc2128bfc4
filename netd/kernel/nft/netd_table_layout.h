// What `table inet netd` should hold for a NftWanted: chain, set and map names, rules and
// elements (the layout is drawn in netd_nft_table.h), and which NftWanted are refused.
// Pure: no kernel access; NetdNftTable plans and commits the difference.
#pragma once

#include <cstdint>
#include <string>

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

std::string slice_save_chain(uint32_t slice_id);       // slice_7
std::string slice_restore_chain(uint32_t slice_id);    // slice_7_in
std::string slice_vif_in_chain(uint32_t slice_id);     // slice_7_vif_in

}  // namespace netd::kernel
