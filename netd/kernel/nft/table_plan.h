// The difference between a table's current state and the wanted one, as batch messages.
// Generic over what the table holds (netd_nft_table.cc says what netd wants).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lib/core/result.h"
#include "netd/kernel/nft/nft_batch.h"
#include "netd/kernel/nft/nft_state.h"
#include "netd/kernel/nft/nftnl_ptr.h"

namespace netd::kernel {

struct WantedChain {
  std::string name;
  std::optional<BaseHook> hook;  // base chains: created once, never deleted or replaced
  std::vector<NftnlRule> rules;
};

// A verdict map keyed by a host-order u32 (a mark): key → chain to jump to.
struct WantedVmap {
  std::string name;
  uint32_t key_type = 0;  // nft datatype id (19 = mark), so `nft list` prints keys right
  uint32_t set_id = 0;    // lets rules refer to it in the batch that creates it
  std::map<uint32_t, std::string> jumps;
};

struct WantedTable {
  uint16_t family = 0;
  std::string name;
  std::vector<WantedChain> chains;
  std::vector<WantedVmap> vmaps;
};

enum class PlanScope {
  kStructure,  // only create what is missing: table, maps, base chains. Touch no contents.
  kEverything, // also rules, regular chains and elements; delete what is not wanted
};

// Appends to `batch` the messages that turn `current` into `wanted`. Fails (EEXIST) when an
// existing base chain or map has another hook or type than wanted: only a foreign hand makes
// that, and replacing a base chain would leave packets unhooked; `--teardown` clears it.
Status plan_table(const TableState& current, const WantedTable& wanted, PlanScope scope, NftBatch& batch);

}  // namespace netd::kernel
