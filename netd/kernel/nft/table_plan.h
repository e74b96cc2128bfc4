// The difference between a table's current state and the wanted one, as batch messages.
// Generic over what the table holds (netd_nft_table.cc says what netd wants).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lib/core/result.h"
#include "netd/kernel/nft/nft_batch.h"
#include "netd/kernel/nft/nft_state.h"
#include "netd/kernel/nft/nftnl_ptr.h"

namespace netd::kernel {

struct WantedChain {
  std::string name;
  // Base chains: created once, never replaced. Their devices (netdev chains) are added and
  // removed in place; a base chain that is not wanted any more is deleted.
  std::optional<BaseHook> hook;
  std::vector<NftnlRule> rules;
};

// A named set, or a verdict map whose elements jump to chains. Keys are the bytes the kernel
// stores (see nft_key_u32 / nft_key_ifname), all of key_len bytes.
struct WantedSet {
  std::string name;
  uint32_t key_type = 0;  // nft datatype id (19 mark, 41 ifname), so `nft list` prints keys right
  uint32_t key_len = 0;   // bytes
  bool verdict_map = false;
  uint32_t set_id = 0;    // lets rules refer to it in the batch that creates it
  // key → chain to jump to (verdict maps) or "" (sets).
  std::map<std::string, std::string> elements;
  // Partial: `elements` are only those to add or retarget, the table's others stay, apart from
  // the keys in `unwanted` (a key in both stays, as in `elements`).
  bool partial = false;
  std::set<std::string> unwanted;
  // How nft(8) shows the key (set userdata): 1 host order (marks, names), 2 network order
  // (addresses). Concatenations show each field by its own type.
  uint32_t key_byteorder = kNftByteorderHost;
  static constexpr uint32_t kNftByteorderHost = 1;
  static constexpr uint32_t kNftByteorderBig = 2;
};

// Key bytes: a host-order u32 (a mark), or an interface name NUL-padded to IFNAMSIZ as
// `meta iifname`/`oifname` load it into a register.
std::string nft_key_u32(uint32_t value);
std::string nft_key_ifname(const std::string& name);

struct WantedTable {
  uint16_t family = 0;
  std::string name;
  std::vector<WantedChain> chains;
  std::vector<WantedSet> sets;
  // Partial (a layout of what changed): chains that are not listed stay as they are, apart
  // from those in `unwanted_chains`. Sets are always all listed (some of them partial).
  bool partial = false;
  std::vector<std::string> unwanted_chains;
};

enum class PlanScope {
  kStructure,  // only create what is missing: table, maps, base chains. Touch no contents.
  kEverything, // also rules, regular chains and elements; delete what is not wanted
};

// What a committed plan changes in the table, as edits to the state it was planned from:
// applying them keeps that state current without a dump, at the cost of what changed.
struct TableChanges {
  bool created = false;                           // the table itself
  std::map<std::string, ChainState> chains;       // added, or with new rules or devices
  std::vector<std::string> deleted_chains;
  std::map<std::string, SetState> added_sets;     // without elements (see added_elements)
  std::vector<std::string> deleted_sets;
  std::map<std::string, std::map<std::string, std::string>> added_elements, deleted_elements;  // per set
};

// Appends to `batch` the messages that turn `current` into `wanted`. Fails (EEXIST) when an
// existing base chain or set has another hook or type than wanted: only a foreign hand makes
// that, and replacing a base chain would leave packets unhooked; `--teardown` clears it.
// `changes` (kEverything only): also what the batch changes, from the same canonical texts
// the plan compared.
Status plan_table(const TableState& current, const WantedTable& wanted, PlanScope scope, NftBatch& batch,
                  TableChanges* changes = nullptr);

// `state` as the committed plan left it. Anonymous sets (rules' own) are kept as they are.
void apply_changes(TableState& state, TableChanges changes);

// What a table holds once `wanted` was planned (kEverything) and committed to an empty table,
// as read_table_state reads it (no generation, no anonymous sets).
TableState state_of(const WantedTable& wanted);

}  // namespace netd::kernel
