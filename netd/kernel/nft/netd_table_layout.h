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

// The table for `wanted` (which check_wanted accepted).
WantedTable netd_table_layout(uint32_t mark_mask, const NftWanted& wanted);

std::string slice_save_chain(uint32_t slice_id);       // slice_7
std::string slice_restore_chain(uint32_t slice_id);    // slice_7_in
std::string slice_vif_in_chain(uint32_t slice_id);     // slice_7_vif_in
std::string slice_vif_guard_chain(uint32_t slice_id);  // slice_7_vif_guard

}  // namespace netd::kernel
