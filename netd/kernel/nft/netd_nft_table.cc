#include "netd/kernel/nft/netd_nft_table.h"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <cstdio>
#include <set>

#include "netd/kernel/nft/nft_batch.h"
#include "netd/kernel/nft/nft_exprs.h"
#include "netd/kernel/nft/nft_socket.h"
#include "netd/kernel/nft/nft_state.h"
#include "netd/kernel/nft/table_plan.h"

namespace netd::kernel {
namespace {

constexpr uint16_t kFamily = NFPROTO_INET;
constexpr int32_t kPriorityMangle = -150;  // NF_IP_PRI_MANGLE: after conntrack (-200)
constexpr uint32_t kTypeMark = 19;         // nft's datatype id of `mark`
constexpr uint32_t kSaveMapId = 1;
constexpr uint32_t kRestoreMapId = 2;
// The ruleset changed between reading and committing (genid check): read and plan again.
constexpr int kAttempts = 3;

std::string hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%#010x", v);
  return buf;
}

std::string save_chain(uint32_t id) { return "slice_" + std::to_string(id); }
std::string restore_chain(uint32_t id) { return "slice_" + std::to_string(id) + "_in"; }

// meta mark & MASK vmap @slice_marks
NftnlRule output_rule(uint32_t mask) {
  NftnlRule r = make_rule(kFamily, NetdNftTable::kTable, NetdNftTable::kOutputChain);
  add_meta_load(r.get(), NFT_META_MARK, NFT_REG_1);
  add_bitwise_u32(r.get(), NFT_REG_1, mask, 0);
  add_vmap_lookup(r.get(), NFT_REG_1, NetdNftTable::kSaveMap, kSaveMapId);
  return r;
}

// ct mark & MASK vmap @slice_ct_marks
NftnlRule prerouting_rule(uint32_t mask) {
  NftnlRule r = make_rule(kFamily, NetdNftTable::kTable, NetdNftTable::kPreroutingChain);
  add_ct_load(r.get(), NFT_CT_MARK, NFT_REG_1);
  add_bitwise_u32(r.get(), NFT_REG_1, mask, 0);
  add_vmap_lookup(r.get(), NFT_REG_1, NetdNftTable::kRestoreMap, kRestoreMapId);
  return r;
}

// ct mark set ct mark & ~MASK | MARK   (MARK lies within MASK, so after the AND, XOR = OR)
NftnlRule save_rule(const std::string& chain, uint32_t mask, uint32_t mark) {
  NftnlRule r = make_rule(kFamily, NetdNftTable::kTable, chain);
  add_ct_load(r.get(), NFT_CT_MARK, NFT_REG_1);
  add_bitwise_u32(r.get(), NFT_REG_1, ~mask, mark);
  add_ct_store(r.get(), NFT_CT_MARK, NFT_REG_1);
  return r;
}

// meta mark set meta mark & ~MASK | MARK
NftnlRule restore_rule(const std::string& chain, uint32_t mask, uint32_t mark) {
  NftnlRule r = make_rule(kFamily, NetdNftTable::kTable, chain);
  add_meta_load(r.get(), NFT_META_MARK, NFT_REG_1);
  add_bitwise_u32(r.get(), NFT_REG_1, ~mask, mark);
  add_meta_store(r.get(), NFT_META_MARK, NFT_REG_1);
  return r;
}

WantedTable wanted_table(uint32_t mask, const std::map<uint32_t, uint32_t>& slices) {
  WantedTable t;
  t.family = kFamily;
  t.name = NetdNftTable::kTable;
  WantedChain output{NetdNftTable::kOutputChain, BaseHook{NF_INET_LOCAL_OUT, kPriorityMangle, "route"}, {}};
  output.rules.push_back(output_rule(mask));
  WantedChain prerouting{NetdNftTable::kPreroutingChain, BaseHook{NF_INET_PRE_ROUTING, kPriorityMangle, "filter"},
                         {}};
  prerouting.rules.push_back(prerouting_rule(mask));
  t.chains.push_back(std::move(output));
  t.chains.push_back(std::move(prerouting));
  WantedVmap save{NetdNftTable::kSaveMap, kTypeMark, kSaveMapId, {}};
  WantedVmap restore{NetdNftTable::kRestoreMap, kTypeMark, kRestoreMapId, {}};
  for (const auto& [id, mark] : slices) {
    WantedChain out{save_chain(id), std::nullopt, {}};
    out.rules.push_back(save_rule(out.name, mask, mark));
    WantedChain in{restore_chain(id), std::nullopt, {}};
    in.rules.push_back(restore_rule(in.name, mask, mark));
    save.jumps[mark] = out.name;
    restore.jumps[mark] = in.name;
    t.chains.push_back(std::move(out));
    t.chains.push_back(std::move(in));
  }
  t.vmaps.push_back(std::move(save));
  t.vmaps.push_back(std::move(restore));
  return t;
}

Status check_slices(uint32_t mask, const std::map<uint32_t, uint32_t>& slices) {
  std::set<uint32_t> seen;
  for (const auto& [id, mark] : slices) {
    std::string who = "slice " + std::to_string(id) + " mark " + hex(mark);
    // Mark 0 would send every unmarked packet into the slice's chains.
    if (mark == 0) return make_error(EINVAL, who + ": a slice mark must not be 0");
    if ((mark & ~mask) != 0) return make_error(EINVAL, who + " has bits outside mark_mask " + hex(mask));
    if (!seen.insert(mark).second) return make_error(EINVAL, who + " is used by another slice too");
  }
  return ok_status();
}

// Reads the table, plans, commits; again if the ruleset changed in between. Returns the
// number of messages sent.
Result<size_t> reconcile(NftSocket& socket, const WantedTable& wanted, PlanScope scope) {
  for (int attempt = 1;; ++attempt) {
    auto state = read_table_state(socket, kFamily, wanted.name);
    if (!state.ok() && state.error().code == EINTR && attempt < kAttempts) continue;
    if (!state.ok()) return std::move(state).error().with_context("reading table inet " + wanted.name);
    NETD_ASSIGN_OR_RETURN(NftBatch batch, NftBatch::create(socket, state->genid));
    NETD_TRY(plan_table(*state, wanted, scope, batch));
    if (batch.size() == 0) return size_t{0};
    Status st = batch.commit();
    if (st.ok()) return batch.size();
    if (st.error().code == ERESTART && attempt < kAttempts) continue;
    return std::move(st).error().with_context("updating table inet " + wanted.name);
  }
}

}  // namespace

NetdNftTable::NetdNftTable(std::unique_ptr<NftSocket> socket, uint32_t mark_mask)
    : socket_(std::move(socket)), mark_mask_(mark_mask) {}
NetdNftTable::NetdNftTable(NetdNftTable&&) noexcept = default;
NetdNftTable& NetdNftTable::operator=(NetdNftTable&&) noexcept = default;
NetdNftTable::~NetdNftTable() = default;

Result<NetdNftTable> NetdNftTable::open(uint32_t mark_mask) {
  if (mark_mask == 0) return make_error(EINVAL, "nft: mark_mask is 0");
  NETD_ASSIGN_OR_RETURN(NftSocket socket, NftSocket::open());
  auto owned = std::make_unique<NftSocket>(std::move(socket));
  NETD_TRY(reconcile(*owned, wanted_table(mark_mask, {}), PlanScope::kStructure));
  return NetdNftTable(std::move(owned), mark_mask);
}

Status NetdNftTable::sync_slices(const std::map<uint32_t, uint32_t>& slices) {
  NETD_TRY(check_slices(mark_mask_, slices));
  NETD_ASSIGN_OR_RETURN(last_sync_messages_,
                        reconcile(*socket_, wanted_table(mark_mask_, slices), PlanScope::kEverything));
  return ok_status();
}

Status NetdNftTable::teardown() {
  NETD_ASSIGN_OR_RETURN(NftSocket socket, NftSocket::open());
  NETD_ASSIGN_OR_RETURN(NftBatch batch, NftBatch::create(socket, std::nullopt));
  NftnlTable table(nftnl_table_alloc());
  nftnl_table_set_str(table.get(), NFTNL_TABLE_NAME, kTable);
  batch.add(NFT_MSG_DELTABLE, kFamily, 0, std::string("deleting table inet ") + kTable,
            [&](struct nlmsghdr* nlh) { nftnl_table_nlmsg_build_payload(nlh, table.get()); });
  Status st = batch.commit();
  if (!st.ok() && st.error().code == ENOENT) return ok_status();
  return st;
}

}  // namespace netd::kernel
