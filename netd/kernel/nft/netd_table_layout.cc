#include "netd/kernel/nft/netd_table_layout.h"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "netd/kernel/nft/nft_exprs.h"
#include "netd/kernel/nft/raw_fence_layout.h"

namespace netd::kernel {
namespace {

using T = NetdNftTable;

constexpr uint16_t kFamily = NFPROTO_INET;
constexpr int32_t kPriorityMangle = -150;  // NF_IP_PRI_MANGLE: after conntrack (-200)
constexpr int32_t kPriorityFilter = 0;     // after mangle: marks are final, the route is chosen
constexpr int32_t kPrioritySrcnat = 100;   // NF_IP_PRI_NAT_SRC
constexpr uint32_t kTypeMark = 19;         // nft's datatype ids (nft list prints keys by them)
constexpr uint32_t kTypeIfname = 41;
constexpr uint32_t kIfnameLen = 16;  // IFNAMSIZ: what meta iifname/oifname load
// Set ids: unique within a batch, so rules can name sets made in the same batch.
enum SetId : uint32_t { kSaveId = 1, kRestoreId, kVifMarkId, kVifsId, kSnatVifsId, kUplinksId };

std::string hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%#010x", v);
  return buf;
}

NftnlRule rule_in(const std::string& chain) { return make_rule(kFamily, T::kTable, chain); }

// MAP is a verdict map keyed by what `load` put in reg 1.
template <typename Load>
NftnlRule vmap_rule(const std::string& chain, Load&& load, const char* map, uint32_t set_id) {
  NftnlRule r = rule_in(chain);
  load(r.get());
  add_vmap_lookup(r.get(), NFT_REG_1, map, set_id);
  return r;
}

// meta mark & MASK vmap @slice_marks
NftnlRule output_rule(uint32_t mask) {
  return vmap_rule(T::kOutputChain, [&](nftnl_rule* r) {
    add_meta_load(r, NFT_META_MARK, NFT_REG_1);
    add_bitwise_u32(r, NFT_REG_1, mask, 0);
  }, T::kSaveMap, kSaveId);
}

// ct mark & MASK vmap @slice_ct_marks
NftnlRule restore_lookup_rule(uint32_t mask) {
  return vmap_rule(T::kPreroutingChain, [&](nftnl_rule* r) {
    add_ct_load(r, NFT_CT_MARK, NFT_REG_1);
    add_bitwise_u32(r, NFT_REG_1, mask, 0);
  }, T::kRestoreMap, kRestoreId);
}

void load_ifname(nftnl_rule* r, bool in) { add_meta_load(r, in ? NFT_META_IIFNAME : NFT_META_OIFNAME, NFT_REG_1); }

// iifname/oifname @SET (the rule goes on only for members)
void match_ifname(nftnl_rule* r, bool in, const char* set, uint32_t set_id) {
  load_ifname(r, in);
  add_set_lookup(r, NFT_REG_1, set, set_id);
}

// ct mark set ct mark & ~MASK | MARK   (MARK lies within MASK, so after the AND, XOR = OR)
NftnlRule save_rule(const std::string& chain, uint32_t mask, uint32_t mark) {
  NftnlRule r = rule_in(chain);
  add_ct_load(r.get(), NFT_CT_MARK, NFT_REG_1);
  add_bitwise_u32(r.get(), NFT_REG_1, ~mask, mark);
  add_ct_store(r.get(), NFT_CT_MARK, NFT_REG_1);
  return r;
}

// meta mark set meta mark & ~MASK | MARK
NftnlRule restore_rule(const std::string& chain, uint32_t mask, uint32_t mark) {
  NftnlRule r = rule_in(chain);
  add_meta_load(r.get(), NFT_META_MARK, NFT_REG_1);
  add_bitwise_u32(r.get(), NFT_REG_1, ~mask, mark);
  add_meta_store(r.get(), NFT_META_MARK, NFT_REG_1);
  return r;
}

// Forwarding touches a vif only between a snat vif and the uplinks: out freely (masqueraded
// in vif_postrouting), back in only as replies. Whose replies may then leave through the vif is
// judged on its egress, like every packet that leaves it (the reply's mark was restored from
// the ct mark the vif's packets set).
std::vector<NftnlRule> forward_rules(bool conntrack) {
  const char* chain = T::kVifForwardChain;
  std::vector<NftnlRule> rules;
  if (conntrack) {
    NftnlRule out = rule_in(chain);  // iifname @snat_vifs oifname @uplinks accept
    match_ifname(out.get(), true, T::kSnatVifSet, kSnatVifsId);
    match_ifname(out.get(), false, T::kUplinkSet, kUplinksId);
    add_verdict(out.get(), NF_ACCEPT);
    rules.push_back(std::move(out));
  }
  NftnlRule from_vif = rule_in(chain);  // iifname @vifs drop
  match_ifname(from_vif.get(), true, T::kVifSet, kVifsId);
  add_verdict(from_vif.get(), NF_DROP);
  rules.push_back(std::move(from_vif));
  if (conntrack) {  // oifname @snat_vifs iifname @uplinks ct state established,related accept
    NftnlRule back = rule_in(chain);
    match_ifname(back.get(), false, T::kSnatVifSet, kSnatVifsId);
    match_ifname(back.get(), true, T::kUplinkSet, kUplinksId);
    add_ct_load(back.get(), NFT_CT_STATE, NFT_REG_1);
    add_bitwise_u32(back.get(), NFT_REG_1, NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED), 0);
    add_cmp_u32(back.get(), NFT_REG_1, NFT_CMP_NEQ, 0);
    add_verdict(back.get(), NF_ACCEPT);
    rules.push_back(std::move(back));
  }
  NftnlRule to_vif = rule_in(chain);  // oifname @vifs drop
  match_ifname(to_vif.get(), false, T::kVifSet, kVifsId);
  add_verdict(to_vif.get(), NF_DROP);
  rules.push_back(std::move(to_vif));
  return rules;
}

// iifname @snat_vifs oifname @uplinks masquerade   (a forwarded packet's input device is
// known in postrouting)
NftnlRule masquerade_rule() {
  NftnlRule r = rule_in(T::kVifPostroutingChain);
  match_ifname(r.get(), true, T::kSnatVifSet, kSnatVifsId);
  match_ifname(r.get(), false, T::kUplinkSet, kUplinksId);
  add_masquerade(r.get());
  return r;
}

WantedSet ifname_set(const char* name, uint32_t id, bool verdict_map = false) {
  return WantedSet{name, kTypeIfname, kIfnameLen, verdict_map, id, {}};
}

// Base chains only while they have work: even an empty one costs every packet at its hook.
// The vif guard on what leaves a vif is in `table netdev netd`, on the vifs' own egress.
std::vector<WantedChain> base_chains(uint32_t mask, bool conntrack, bool vifs) {
  std::vector<WantedChain> chains;
  if (conntrack) {
    WantedChain output{T::kOutputChain, BaseHook{NF_INET_LOCAL_OUT, kPriorityMangle, "route"}, {}};
    output.rules.push_back(output_rule(mask));
    chains.push_back(std::move(output));
  }
  WantedChain prerouting{T::kPreroutingChain, BaseHook{NF_INET_PRE_ROUTING, kPriorityMangle, "filter"}, {}};
  if (conntrack) prerouting.rules.push_back(restore_lookup_rule(mask));
  // After the restore: what arrives on a vif is its owner's whatever its conntrack says.
  if (vifs)
    prerouting.rules.push_back(vmap_rule(T::kPreroutingChain, [](nftnl_rule* r) { load_ifname(r, true); },
                                         T::kVifMarkMap, kVifMarkId));
  if (!prerouting.rules.empty()) chains.push_back(std::move(prerouting));
  if (vifs)
    chains.push_back({T::kVifForwardChain, BaseHook{NF_INET_FORWARD, kPriorityFilter, "filter"}, forward_rules(conntrack)});
  if (conntrack) {
    WantedChain postrouting{T::kVifPostroutingChain, BaseHook{NF_INET_POST_ROUTING, kPrioritySrcnat, "nat"}, {}};
    postrouting.rules.push_back(masquerade_rule());
    chains.push_back(std::move(postrouting));
  }
  return chains;
}

Status check_ifname(const std::string& what, const std::string& name) {
  if (name.empty() || name.size() >= kIfnameLen || name.find('\0') != std::string::npos)
    return make_error(EINVAL, what + " '" + name + "': an interface name has 1-15 characters");
  return ok_status();
}

// The per-slice chains (slice_S, slice_S_in) and their map elements.
void add_slice(WantedTable& t, WantedSet& save, WantedSet& restore, uint32_t mask, uint32_t id, uint32_t mark) {
  WantedChain out{slice_save_chain(id), std::nullopt, {}};
  out.rules.push_back(save_rule(out.name, mask, mark));
  WantedChain in{slice_restore_chain(id), std::nullopt, {}};
  in.rules.push_back(restore_rule(in.name, mask, mark));
  save.elements[nft_key_u32(mark)] = out.name;
  restore.elements[nft_key_u32(mark)] = in.name;
  t.chains.push_back(std::move(out));
  t.chains.push_back(std::move(in));
}

// The vif owner's chain that marks what arrives on its vifs (slice_S_vif_in), and with
// conntrack its flows, so that the replies forwarded back to the vif are the owner's.
void add_vif_owner(WantedTable& t, uint32_t mask, uint32_t id, uint32_t mark, bool conntrack) {
  WantedChain in{slice_vif_in_chain(id), std::nullopt, {}};
  in.rules.push_back(restore_rule(in.name, mask, mark));
  if (conntrack) in.rules.push_back(save_rule(in.name, mask, mark));
  t.chains.push_back(std::move(in));
}

std::set<uint32_t> vif_owners(const NftWanted& w) {
  std::set<uint32_t> owners;
  for (const auto& vif : w.vifs) owners.insert(vif.slice_id);
  return owners;
}

// The vifs' maps and sets (who may send out of a vif is `table netdev netd`'s own_vifs).
struct VifSets {
  WantedSet marks = ifname_set(T::kVifMarkMap, kVifMarkId, true);
  WantedSet all = ifname_set(T::kVifSet, kVifsId);
  WantedSet snat = ifname_set(T::kSnatVifSet, kSnatVifsId);

  void add(const NftVif& vif) {
    std::string key = nft_key_ifname(vif.name);
    marks.elements[key] = slice_vif_in_chain(vif.slice_id);
    all.elements[key] = "";
    if (vif.snat) snat.elements[key] = "";
  }
  void remove(const NftVif& vif) {
    std::string key = nft_key_ifname(vif.name);
    for (WantedSet* s : {&marks, &all, &snat}) s->unwanted.insert(key);
  }
};

// Everything of the slices and vifs: slice chains, vif owners' chains, the six maps and sets.
void add_all_slices(WantedTable& t, WantedSet& save, WantedSet& restore, VifSets& vifs, uint32_t mask,
                    const NftWanted& wanted, bool conntrack) {
  if (conntrack) {
    t.chains.reserve(t.chains.size() + 2 * wanted.slices.size());
    for (const auto& [id, mark] : wanted.slices) add_slice(t, save, restore, mask, id, mark);
  }
  for (const auto& vif : wanted.vifs) vifs.add(vif);
  for (uint32_t id : vif_owners(wanted)) add_vif_owner(t, mask, id, wanted.slices.at(id), conntrack);
}

// A slice's chains and map elements as unwanted (a slice gone, or its old mark).
void drop_slice(WantedTable& t, WantedSet& save, WantedSet& restore, uint32_t id, uint32_t mark) {
  t.unwanted_chains.push_back(slice_save_chain(id));
  t.unwanted_chains.push_back(slice_restore_chain(id));
  save.unwanted.insert(nft_key_u32(mark));
  restore.unwanted.insert(nft_key_u32(mark));
}

// Only what differs from `previous`, which the table holds: added slices and slices whose mark
// changed, removed ones as unwanted chains and keys; the same for vifs, and the vifs of a slice
// whose mark changed.
void add_changed_slices(WantedTable& t, WantedSet& save, WantedSet& restore, VifSets& vifs, uint32_t mask,
                        const NftWanted& wanted, const NftWanted& previous, bool conntrack) {
  auto drop_slice = [&](uint32_t id, uint32_t mark) { kernel::drop_slice(t, save, restore, id, mark); };
  auto before = previous.slices.begin();
  auto now = wanted.slices.begin();
  // Without conntrack no slice has chains of its own (the caller lays a change of that out whole).
  while (conntrack && (before != previous.slices.end() || now != wanted.slices.end())) {
    if (now == wanted.slices.end() || (before != previous.slices.end() && before->first < now->first)) {
      drop_slice(before->first, before->second);
      ++before;
    } else if (before == previous.slices.end() || now->first < before->first) {
      add_slice(t, save, restore, mask, now->first, now->second);
      ++now;
    } else {
      if (before->second != now->second) {
        drop_slice(before->first, before->second);  // the chains stay listed: rewritten, not deleted
        add_slice(t, save, restore, mask, now->first, now->second);
      }
      ++before;
      ++now;
    }
  }

  std::map<std::string_view, const NftVif*> old_vifs;
  for (const auto& vif : previous.vifs) old_vifs.emplace(vif.name, &vif);
  for (const auto& vif : wanted.vifs) {
    auto it = old_vifs.find(vif.name);
    if (it != old_vifs.end()) {
      const NftVif& old = *it->second;
      old_vifs.erase(it);
      // An owner's new mark is in its slice_S_vif_in chain (rewritten below), not here.
      if (old.slice_id == vif.slice_id && old.snat == vif.snat) continue;
      vifs.remove(old);  // owner or snat changed: listed again below, so only snat may go
    }
    vifs.add(vif);
  }
  for (const auto& [name, vif] : old_vifs) vifs.remove(*vif);

  std::set<uint32_t> old_owners = vif_owners(previous), owners = vif_owners(wanted);
  for (uint32_t id : old_owners)
    if (owners.count(id) == 0) t.unwanted_chains.push_back(slice_vif_in_chain(id));
  for (uint32_t id : owners) {
    uint32_t mark = wanted.slices.at(id);
    auto was = previous.slices.find(id);
    if (old_owners.count(id) == 0 || was == previous.slices.end() || was->second != mark)
      add_vif_owner(t, mask, id, mark, conntrack);
  }
}

}  // namespace

std::string slice_save_chain(uint32_t id) { return "slice_" + std::to_string(id); }
std::string slice_restore_chain(uint32_t id) { return "slice_" + std::to_string(id) + "_in"; }
std::string slice_vif_in_chain(uint32_t id) { return "slice_" + std::to_string(id) + "_vif_in"; }

namespace {

// A slice mark on its own: mark 0 would send every unmarked packet into the slice's chains.
Status check_mark(uint32_t mask, uint32_t id, uint32_t mark) {
  if (mark == 0) return make_error(EINVAL, "slice " + std::to_string(id) + " mark " + hex(mark) + ": a slice mark must not be 0");
  if ((mark & ~mask) != 0)
    return make_error(EINVAL, "slice " + std::to_string(id) + " mark " + hex(mark) + " has bits outside mark_mask " + hex(mask));
  return ok_status();
}

// Two slices with one mark: the later id is named, as a walk in id order would.
Error shared_mark(uint32_t id, uint32_t other, uint32_t mark) {
  return make_error(EINVAL, "slice " + std::to_string(std::max(id, other)) + " mark " + hex(mark) +
                                " is used by another slice too");
}

}  // namespace

Status check_wanted(uint32_t mask, const NftWanted& wanted) {
  // Sorted marks in one array: thousands of slices are checked on every sync.
  std::vector<std::pair<uint32_t, uint32_t>> marks;  // mark, slice id
  marks.reserve(wanted.slices.size());
  for (const auto& [id, mark] : wanted.slices) {
    NETD_TRY(check_mark(mask, id, mark));
    marks.emplace_back(mark, id);
  }
  std::sort(marks.begin(), marks.end());
  for (size_t i = 1; i < marks.size(); ++i)
    if (marks[i].first == marks[i - 1].first) return shared_mark(marks[i].second, marks[i - 1].second, marks[i].first);
  std::set<std::string> vifs;
  for (const auto& vif : wanted.vifs) {
    NETD_TRY(check_ifname("vif", vif.name));
    if (!vifs.insert(vif.name).second) return make_error(EINVAL, "vif " + vif.name + " is listed twice");
    if (wanted.slices.count(vif.slice_id) == 0)
      return make_error(EINVAL, "vif " + vif.name + ": its owner, slice " + std::to_string(vif.slice_id) +
                                    ", has no mark");
  }
  if (!wanted.conntrack) {
    for (const auto& vif : wanted.vifs)
      if (vif.snat) return make_error(EINVAL, "vif " + vif.name + " does snat, which needs conntrack");
    if (!wanted.flowlog_groups.empty())
      return make_error(EINVAL, "flow log groups need conntrack (arriving packets are named by their ct mark)");
  }
  std::set<std::string> uplinks;
  for (const auto& uplink : wanted.uplinks) {
    NETD_TRY(check_ifname("uplink", uplink));
    if (!uplinks.insert(uplink).second) return make_error(EINVAL, "uplink " + uplink + " is listed twice");
    if (vifs.count(uplink) != 0) return make_error(EINVAL, "uplink " + uplink + " is also a vif");
  }
  return check_fence(mask, wanted);
}

namespace {

// The layout around the slices' and vifs' part, which `fill` lays out (whole or partial).
template <typename Fill>
WantedTable layout_with(uint32_t mask, const NftWanted& wanted, bool partial, Fill&& fill) {
  const bool conntrack = wanted.conntrack;
  WantedTable t{kFamily, T::kTable, base_chains(mask, conntrack, !wanted.vifs.empty()), {}};
  WantedSet save{T::kSaveMap, kTypeMark, sizeof(uint32_t), true, kSaveId, {}};
  WantedSet restore{T::kRestoreMap, kTypeMark, sizeof(uint32_t), true, kRestoreId, {}};
  VifSets vifs;
  if (partial) {
    t.partial = true;
    for (WantedSet* s : {&save, &restore, &vifs.marks, &vifs.all, &vifs.snat}) s->partial = true;
  }
  fill(t, save, restore, vifs);
  WantedSet uplinks = ifname_set(T::kUplinkSet, kUplinksId);
  for (const auto& uplink : wanted.uplinks) uplinks.elements[nft_key_ifname(uplink)] = "";
  if (conntrack) {
    t.sets.push_back(std::move(save));
    t.sets.push_back(std::move(restore));
  }
  for (auto* s : {&vifs.marks, &vifs.all, &vifs.snat, &uplinks}) t.sets.push_back(std::move(*s));
  add_inet_fence_and_flowlog(mask, wanted, kUplinksId, t);
  return t;
}

}  // namespace

WantedTable netd_table_layout(uint32_t mask, const NftWanted& wanted, const NftWanted* previous) {
  const bool conntrack = wanted.conntrack;
  // The raw flag, conntrack, the flow log and whether there are vifs decide which chains exist
  // beside the slices' ones: a change of any is laid out whole (in one transaction: no packet
  // sees half of it).
  const bool partial = previous != nullptr && previous->raw_flag == wanted.raw_flag &&
                       previous->conntrack == conntrack &&
                       previous->flowlog_groups.empty() == wanted.flowlog_groups.empty() &&
                       previous->vifs.empty() == wanted.vifs.empty();
  return layout_with(mask, wanted, partial, [&](WantedTable& t, WantedSet& save, WantedSet& restore, VifSets& vifs) {
    if (partial)
      add_changed_slices(t, save, restore, vifs, mask, wanted, *previous, conntrack);
    else
      add_all_slices(t, save, restore, vifs, mask, wanted, conntrack);
  });
}

std::optional<WantedTable> netd_slices_layout(uint32_t mask, const NftWanted& wanted, const NftWanted& previous,
                                              const std::vector<uint32_t>& ids) {
  if (previous.raw_flag != wanted.raw_flag || previous.conntrack != wanted.conntrack ||
      previous.flowlog_groups != wanted.flowlog_groups || previous.vifs.size() != wanted.vifs.size() ||
      previous.uplinks != wanted.uplinks)
    return std::nullopt;
  for (uint32_t id : ids) {
    // A vif owner's mark is also in its vifs' chain and elements: netd_table_layout's part.
    for (const auto& vif : wanted.vifs)
      if (vif.slice_id == id) return std::nullopt;
    if (previous.packet_send_devices.count(id) != 0 || wanted.packet_send_devices.count(id) != 0) return std::nullopt;
  }
  return layout_with(mask, wanted, true, [&](WantedTable& t, WantedSet& save, WantedSet& restore, VifSets&) {
    if (!wanted.conntrack) return;  // no slice has chains of its own
    for (uint32_t id : ids) {
      auto before = previous.slices.find(id), now = wanted.slices.find(id);
      const bool was = before != previous.slices.end(), is = now != wanted.slices.end();
      if (was && is && before->second == now->second) continue;
      if (was) drop_slice(t, save, restore, id, before->second);  // listed again below if it stays
      if (is) add_slice(t, save, restore, mask, id, now->second);
    }
  });
}

Status check_slice_marks(uint32_t mask, const NftWanted& wanted, const std::vector<uint32_t>& ids) {
  for (uint32_t id : ids) {
    auto it = wanted.slices.find(id);
    if (it == wanted.slices.end()) continue;
    const uint32_t mark = it->second;
    NETD_TRY(check_mark(mask, id, mark));
    for (const auto& [other, other_mark] : wanted.slices)
      if (other_mark == mark && other != id) return shared_mark(id, other, mark);
  }
  return ok_status();
}

}  // namespace netd::kernel
