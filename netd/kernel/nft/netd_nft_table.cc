#include "netd/kernel/nft/netd_nft_table.h"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "netd/kernel/nft/netd_table_layout.h"
#include "netd/kernel/nft/nft_batch.h"
#include "netd/kernel/nft/nft_socket.h"
#include "netd/kernel/nft/nft_state.h"
#include "netd/kernel/nft/table_plan.h"

namespace netd::kernel {
namespace {

constexpr uint16_t kFamily = NFPROTO_INET;
// The ruleset changed between reading and committing (genid check): read and plan again.
constexpr int kAttempts = 3;

struct Reconciled {
  size_t messages = 0;
  uint32_t genid = 0;  // the ruleset generation the table is known to be right at
};

// Reads the table, plans, commits; again if the ruleset changed in between.
Result<Reconciled> reconcile(NftSocket& socket, const WantedTable& wanted, PlanScope scope) {
  for (int attempt = 1;; ++attempt) {
    auto state = read_table_state(socket, kFamily, wanted.name);
    if (!state.ok() && state.error().code == EINTR && attempt < kAttempts) continue;
    if (!state.ok()) return std::move(state).error().with_context("reading table inet " + wanted.name);
    NETD_ASSIGN_OR_RETURN(NftBatch batch, NftBatch::create(socket, state->genid));
    NETD_TRY(plan_table(*state, wanted, scope, batch));
    if (batch.size() == 0) return Reconciled{0, state->genid};
    Status st = batch.commit();
    // The batch carried the generation it was planned on, so it committed on exactly that one
    // and made the next.
    if (st.ok()) return Reconciled{batch.size(), state->genid + 1};
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
  NETD_TRY(reconcile(*owned, netd_table_layout(mark_mask, {}), PlanScope::kStructure));
  return NetdNftTable(std::move(owned), mark_mask);
}

Status NetdNftTable::sync(const NftWanted& wanted) {
  NETD_TRY(check_wanted(mark_mask_, wanted));
  if (synced_ && *synced_ == wanted) {
    // One GETGEN instead of a dump of the whole table (netd publishes after every link event).
    auto genid = read_genid(*socket_);
    if (genid.ok() && *genid == synced_genid_) {
      last_sync_messages_ = 0;
      return ok_status();
    }
  }
  synced_.reset();
  NETD_ASSIGN_OR_RETURN(Reconciled done,
                        reconcile(*socket_, netd_table_layout(mark_mask_, wanted), PlanScope::kEverything));
  last_sync_messages_ = done.messages;
  synced_genid_ = done.genid;
  synced_ = wanted;
  return ok_status();
}

Status NetdNftTable::sync_slices(const std::map<uint32_t, uint32_t>& slices) {
  return sync(NftWanted{slices, {}, {}});
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
