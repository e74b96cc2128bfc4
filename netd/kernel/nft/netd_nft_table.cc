#include "netd/kernel/nft/netd_nft_table.h"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <functional>
#include <utility>

#include "netd/kernel/nft/netd_table_layout.h"
#include "netd/kernel/nft/raw_fence_layout.h"
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

// Appends the messages that bring netd's tables (as read: inet, netdev) to what is wanted.
using Planner = std::function<Status(const TableState& inet, const TableState& netdev, NftBatch& batch)>;

Result<TableState> read_state(NftSocket& socket, uint16_t family, const char* family_name) {
  auto state = read_table_state(socket, family, NetdNftTable::kTable);
  if (!state.ok() && state.error().code != EINTR)
    return std::move(state).error().with_context(std::string("reading table ") + family_name + " netd");
  return state;
}

// Reads the tables, plans, commits all in one transaction; again if the ruleset changed in
// between. Without `netdev` the netdev table is neither read nor planned.
Result<Reconciled> reconcile(NftSocket& socket, bool netdev, const Planner& plan) {
  for (int attempt = 1;; ++attempt) {
    const bool last = attempt >= kAttempts;
    auto inet_state = read_state(socket, kFamily, "inet");
    if (!inet_state.ok() && inet_state.error().code == EINTR && !last) continue;
    if (!inet_state.ok()) return std::move(inet_state).error();
    TableState netdev_state;
    netdev_state.genid = inet_state->genid;
    if (netdev) {
      auto read = read_state(socket, NFPROTO_NETDEV, "netdev");
      if (!read.ok() && read.error().code == EINTR && !last) continue;
      if (!read.ok()) return std::move(read).error();
      // Both read at one generation, or read again.
      if (read->genid != inet_state->genid && !last) continue;
      netdev_state = std::move(read).value();
    }
    NETD_ASSIGN_OR_RETURN(NftBatch batch, NftBatch::create(socket, inet_state->genid));
    NETD_TRY(plan(*inet_state, netdev_state, batch));
    if (batch.size() == 0) return Reconciled{0, inet_state->genid};
    Status st = batch.commit();
    // The batch carried the generation it was planned on, so it committed on exactly that one
    // and made the next.
    if (st.ok()) return Reconciled{batch.size(), inet_state->genid + 1};
    if (st.error().code == ERESTART && !last) continue;
    return std::move(st).error().with_context("updating the netd tables");
  }
}

void delete_table(NftBatch& batch, uint16_t family, const std::string& what) {
  NftnlTable table(nftnl_table_alloc());
  nftnl_table_set_str(table.get(), NFTNL_TABLE_NAME, NetdNftTable::kTable);
  batch.add(NFT_MSG_DELTABLE, family, 0, "deleting table " + what,
            [&](struct nlmsghdr* nlh) { nftnl_table_nlmsg_build_payload(nlh, table.get()); });
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
  // The structure every layout has (no conntrack: a `nat` base chain made here would make the
  // kernel track every flow until the first sync removed it).
  NftWanted least;
  least.conntrack = false;
  WantedTable layout = netd_table_layout(mark_mask, least);
  bool fence = false;
  NETD_TRY(reconcile(*owned, false, [&](const TableState& inet, const TableState&, NftBatch& batch) {
    fence = inet.exists && inet.chains.count(kRawOutputChain) != 0;  // the fence's inet half
    return plan_table(inet, layout, PlanScope::kStructure, batch);
  }));
  NetdNftTable table(std::move(owned), mark_mask);
  table.fence_at_open_ = fence;
  return table;
}

Status NetdNftTable::sync(const NftWanted& wanted) {
  // What the last sync accepted needs no second check (thousands of slices, every reload).
  const bool as_synced = synced_ && *synced_ == wanted;
  if (!as_synced) NETD_TRY(check_wanted(mark_mask_, wanted));
  if (synced_ && known_inet_ && known_netdev_) {
    // While the generation is what netd's last commit made, nobody changed any table: an
    // equal request needs nothing, a different one is planned from memory (no dump). After a
    // device event the netdev table (small: no per-slice chains) is read, as its hooks may
    // have changed without a new generation.
    auto genid = read_genid(*socket_);
    bool known = genid.ok() && *genid == synced_genid_;
    const bool devices_moved = netdev_stale_;
    if (known && devices_moved) {
      auto netdev = read_table_state(*socket_, NFPROTO_NETDEV, kTable);
      known = netdev.ok() && netdev->genid == synced_genid_;
      if (known) known_netdev_ = std::move(netdev).value();
    }
    if (known) {
      last_sync_read_tables_ = false;
      netdev_stale_ = false;
      if (as_synced && !devices_moved) {
        last_sync_messages_ = 0;
        return ok_status();
      }
      if (sync_from_memory(wanted, devices_moved).ok()) return ok_status();
    }
  }
  synced_.reset();
  known_inet_.reset();
  known_netdev_.reset();
  last_sync_read_tables_ = true;
  netdev_stale_ = false;
  WantedTable layout = netd_table_layout(mark_mask_, wanted);
  TableState inet_after, netdev_after;
  // What the tables hold once the batch commits: as read, with the plan's changes applied.
  auto plan = [&](const TableState& inet, const TableState& netdev, NftBatch& batch) -> Status {
    TableChanges changes;
    NETD_TRY(plan_table(inet, layout, PlanScope::kEverything, batch, &changes));
    inet_after = inet;
    apply_changes(inet_after, std::move(changes));
    netdev_after = TableState{};
    if (needs_netdev_table(wanted)) {
      WantedTable netdev_layout = netdev_table_layout(mark_mask_, wanted, netdev);
      NETD_TRY(plan_table(netdev, netdev_layout, PlanScope::kEverything, batch, &changes));
      netdev_after = netdev;
      apply_changes(netdev_after, std::move(changes));
      return ok_status();
    }
    if (netdev.exists) delete_table(batch, NFPROTO_NETDEV, "netdev netd");  // no fence, no vif guard any more
    return ok_status();
  };
  NETD_ASSIGN_OR_RETURN(Reconciled done, reconcile(*socket_, true, plan));
  last_sync_messages_ = done.messages;
  synced_genid_ = done.genid;
  synced_ = wanted;
  known_inet_ = std::move(inet_after);
  known_netdev_ = std::move(netdev_after);
  return ok_status();
}

Status NetdNftTable::sync_from_memory(const NftWanted& wanted, bool devices_moved) {
  // Only the slices and vifs that changed since the last sync are laid out, and the netdev
  // table only when what it is made of changed (or its hooks may have).
  WantedTable layout = netd_table_layout(mark_mask_, wanted, &*synced_);
  NETD_ASSIGN_OR_RETURN(NftBatch batch, NftBatch::create(*socket_, synced_genid_));
  TableChanges inet_changes, netdev_changes;
  NETD_TRY(plan_table(*known_inet_, layout, PlanScope::kEverything, batch, &inet_changes));
  const bool netdev_as_is = !devices_moved && same_netdev_layout(*synced_, wanted);
  if (netdev_as_is) {
    // as it is, and as known_netdev_ says
  } else if (needs_netdev_table(wanted)) {
    WantedTable netdev_layout = netdev_table_layout(mark_mask_, wanted, *known_netdev_);
    NETD_TRY(plan_table(*known_netdev_, netdev_layout, PlanScope::kEverything, batch, &netdev_changes));
  } else if (known_netdev_->exists) {
    delete_table(batch, NFPROTO_NETDEV, "netdev netd");
  }
  if (batch.size() > 0) NETD_TRY(batch.commit());
  last_sync_messages_ = batch.size();
  // The batch carried the generation it was planned on: it committed on exactly that one and
  // made the next.
  if (batch.size() > 0) ++synced_genid_;
  synced_ = wanted;
  apply_changes(*known_inet_, std::move(inet_changes));
  if (!netdev_as_is && needs_netdev_table(wanted))
    apply_changes(*known_netdev_, std::move(netdev_changes));
  else if (!netdev_as_is)
    known_netdev_ = TableState{};  // no fence, no vif: no netdev table
  return ok_status();
}

Status NetdNftTable::sync_slices_changed(const NftWanted& wanted, const std::vector<uint32_t>& ids) {
  if (!synced_ || !known_inet_ || !known_netdev_ || netdev_stale_) return sync(wanted);
  std::optional<WantedTable> layout = netd_slices_layout(mark_mask_, wanted, *synced_, ids);
  if (!layout) return sync(wanted);
  NETD_TRY(check_slice_marks(mark_mask_, wanted, ids));
  auto genid = read_genid(*socket_);
  if (!genid.ok() || *genid != synced_genid_) return sync(wanted);  // someone else committed
  NETD_ASSIGN_OR_RETURN(NftBatch batch, NftBatch::create(*socket_, synced_genid_));
  TableChanges changes;
  NETD_TRY(plan_table(*known_inet_, *layout, PlanScope::kEverything, batch, &changes));
  if (batch.size() > 0) {
    if (Status st = batch.commit(); !st.ok()) {
      // ERESTART (a commit in between) and the like: the path that reads the tables decides.
      if (st.error().code == ERESTART) return sync(wanted);
      return st;
    }
    ++synced_genid_;
  }
  last_sync_messages_ = batch.size();
  last_sync_read_tables_ = false;
  // What the table holds now: the last sync's wanted with these slices as `wanted` has them
  // (a copy of the slices only).
  for (uint32_t id : ids) {
    if (auto it = wanted.slices.find(id); it != wanted.slices.end())
      synced_->slices[id] = it->second;
    else
      synced_->slices.erase(id);
  }
  apply_changes(*known_inet_, std::move(changes));
  return ok_status();
}

Status NetdNftTable::sync_slices(const std::map<uint32_t, uint32_t>& slices) {
  NftWanted wanted;
  wanted.slices = slices;
  return sync(wanted);
}

Status NetdNftTable::teardown() {
  NETD_ASSIGN_OR_RETURN(NftSocket socket, NftSocket::open());
  // One transaction per table: a missing one (ENOENT) would abort the other's deletion.
  for (auto [family, what] : {std::pair<uint16_t, const char*>{kFamily, "inet netd"}, {NFPROTO_NETDEV, "netdev netd"}}) {
    NETD_ASSIGN_OR_RETURN(NftBatch batch, NftBatch::create(socket, std::nullopt));
    delete_table(batch, family, what);
    Status st = batch.commit();
    if (!st.ok() && st.error().code != ENOENT) return st;
  }
  return ok_status();
}

}  // namespace netd::kernel
