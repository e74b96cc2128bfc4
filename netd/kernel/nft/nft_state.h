// What one nf_tables table holds right now, read with dumps: chains (with their rules in
// canonical text, see describe_rule), sets/maps with their elements, and the ruleset
// generation the reading started at.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lib/core/result.h"
#include "netd/kernel/nft/nft_socket.h"

namespace netd::kernel {

struct BaseHook {
  uint32_t hooknum = 0;  // NF_INET_LOCAL_OUT, ...
  int32_t priority = 0;
  std::string type;      // "filter", "route", "nat"
  // netdev chains: the device names hooked (changed in place, see plan_table)
  std::set<std::string> devices;
  bool operator==(const BaseHook&) const = default;
  // The same hook apart from the devices.
  bool same_hook(const BaseHook& o) const { return hooknum == o.hooknum && priority == o.priority && type == o.type; }
};

struct ChainState {
  std::optional<BaseHook> hook;  // set for base chains
  std::vector<std::string> rules;
};

struct SetState {
  uint32_t flags = 0;
  uint32_t key_type = 0;
  uint32_t key_len = 0;
  uint32_t data_type = 0;
  // key bytes → the chain its element jumps to ("" for plain sets, other verdicts or data).
  std::map<std::string, std::string> elements;
};

struct TableState {
  uint32_t genid = 0;
  bool exists = false;
  std::map<std::string, ChainState> chains;
  std::map<std::string, SetState> sets;
};

// Reads the table through `socket` (so in the socket's netns). A dump interrupted by a
// concurrent change fails with EINTR: read again.
// The ruleset generation now (it changes with every committed transaction, anyone's).
Result<uint32_t> read_genid(NftSocket& socket);

Result<TableState> read_table_state(NftSocket& socket, uint16_t family, const std::string& table);

}  // namespace netd::kernel
