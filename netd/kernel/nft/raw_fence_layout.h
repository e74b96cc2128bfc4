// The send fence of isolated raw/packet sockets (NftWanted::raw_flag) and the flow log:
// the parts of `table inet netd` they add; and `table netdev netd` (the fence and the vif
// guard, drawn in netd_nft_table.h). Pure: no kernel access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "lib/core/result.h"
#include "netd/kernel/nft/netd_nft_table.h"
#include "netd/kernel/nft/nft_state.h"
#include "netd/kernel/nft/table_plan.h"

namespace netd::kernel {

inline constexpr const char* kNetdevTable = "netd";
inline constexpr const char* kRawFenceChain = "raw_fence";
inline constexpr const char* kRawFrameChain = "raw_frame";
inline constexpr const char* kOwnVifSet = "own_vifs";
inline constexpr const char* kSendDeviceSet = "send_devices";
inline constexpr const char* kVifKernelChain = "vif_kernel";
inline constexpr const char* kRawEgressPrefix = "raw_egress_";
inline constexpr const char* kVifEgressPrefix = "vif_egress_";
// The kernel hooks at most 256 devices per netdev chain; 200 leaves room to add before the
// next chain is made.
inline constexpr size_t kDevicesPerEgressChain = 200;

std::string raw_egress_chain(size_t k);  // raw_egress_0
std::string vif_egress_chain(size_t k);  // vif_egress_0

// EINVAL for fence and flow log settings that cannot be expressed (see NetdNftTable::sync).
Status check_fence(uint32_t mark_mask, const NftWanted& wanted);

// Set ids in `table inet netd` that the fence rules refer to (those of netd_table_layout.cc
// stay below 16).
enum InetFenceSetId : uint32_t { kHostAddrs4Id = 16, kHostAddrs6Id, kVifAddrs4Id, kVifAddrs6Id };

// Adds to `table` (inet netd), with a raw flag, the base chain raw_output and the chains
// raw_source and raw_unflag; while some flow log group exists, the base chains flowlog_in and
// flowlog_out; and the four address sets (empty without a raw flag).
// `uplinks_set_id` is the id of the uplinks set the flow log rules match on.
void add_inet_fence_and_flowlog(uint32_t mark_mask, const NftWanted& wanted, uint32_t uplinks_set_id,
                                WantedTable& table);

// Whether `table netdev netd` should exist: while there is a raw flag (the send fence) or
// some vif (the vif guard on the vifs' egress).
bool needs_netdev_table(const NftWanted& wanted);

// `table netdev netd`: the vif guard's egress chains on the vifs, and with a raw flag the
// send fence's on every device. Devices hooked now stay on the egress chain they are on
// (`current` is the table as it is; empty if it does not exist), new ones fill chains that
// have room, then new chains; a chain left with no wanted device goes.
WantedTable netdev_table_layout(uint32_t mark_mask, const NftWanted& wanted, const TableState& current);

// Whether netdev_table_layout gives the same table for `a` and `b` (on the same current
// state): the same vifs, devices, raw flag, host addresses and send devices, and the same
// marks for the slices those name. A change of other slices (most reloads) leaves the
// netdev table alone, whatever the number of slices.
bool same_netdev_layout(const NftWanted& a, const NftWanted& b);

}  // namespace netd::kernel
