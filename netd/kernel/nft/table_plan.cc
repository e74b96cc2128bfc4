#include "netd/kernel/nft/table_plan.h"

#include <linux/netfilter/nf_tables.h>
#include <net/if.h>

#include <set>

#include "netd/kernel/nft/nft_exprs.h"

namespace netd::kernel {
namespace {

std::vector<std::string> describe(const std::vector<NftnlRule>& rules) {
  std::vector<std::string> out;
  for (const auto& r : rules) out.push_back(describe_rule(r.get()));
  return out;
}

void add_table(NftBatch& batch, const WantedTable& t) {
  NftnlTable table(nftnl_table_alloc());
  nftnl_table_set_str(table.get(), NFTNL_TABLE_NAME, t.name.c_str());
  batch.add(NFT_MSG_NEWTABLE, t.family, NLM_F_CREATE, "adding table " + t.name,
            [&](struct nlmsghdr* nlh) { nftnl_table_nlmsg_build_payload(nlh, table.get()); });
}

NftnlChain chain_object(const WantedTable& t, const std::string& name) {
  NftnlChain chain(nftnl_chain_alloc());
  nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_TABLE, t.name.c_str());
  nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_NAME, name.c_str());
  return chain;
}

void set_hook(nftnl_chain* chain, const BaseHook& hook, const std::set<std::string>& devices) {
  nftnl_chain_set_u32(chain, NFTNL_CHAIN_HOOKNUM, hook.hooknum);
  nftnl_chain_set_s32(chain, NFTNL_CHAIN_PRIO, hook.priority);
  nftnl_chain_set_str(chain, NFTNL_CHAIN_TYPE, hook.type.c_str());
  if (devices.empty()) return;
  std::vector<const char*> names;
  for (const auto& d : devices) names.push_back(d.c_str());
  names.push_back(nullptr);
  nftnl_chain_set_array(chain, NFTNL_CHAIN_DEVICES, names.data());  // copies
}

void add_chain(NftBatch& batch, const WantedTable& t, const WantedChain& c) {
  NftnlChain chain = chain_object(t, c.name);
  if (c.hook) set_hook(chain.get(), *c.hook, c.hook->devices);
  batch.add(NFT_MSG_NEWCHAIN, t.family, NLM_F_CREATE, "adding chain " + c.name,
            [&](struct nlmsghdr* nlh) { nftnl_chain_nlmsg_build_payload(nlh, chain.get()); });
}

// A NEWCHAIN naming an existing netdev chain's hook with more devices hooks those too; a
// DELCHAIN carrying devices unhooks just them (kernel >= 6.4). Devices already hooked stay
// hooked throughout: the chain is never replaced.
void change_devices(NftBatch& batch, const WantedTable& t, const std::string& name, const BaseHook& hook,
                    const std::set<std::string>& devices, bool add) {
  if (devices.empty()) return;
  NftnlChain chain = chain_object(t, name);
  set_hook(chain.get(), hook, devices);
  batch.add(add ? NFT_MSG_NEWCHAIN : NFT_MSG_DELCHAIN, t.family, 0,
            (add ? "hooking " : "unhooking ") + std::to_string(devices.size()) + " devices " +
                (add ? "to chain " : "from chain ") + name,
            [&](struct nlmsghdr* nlh) { nftnl_chain_nlmsg_build_payload(nlh, chain.get()); });
}

std::set<std::string> minus(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::set<std::string> out;
  for (const auto& x : a)
    if (b.count(x) == 0) out.insert(x);
  return out;
}

void delete_chain(NftBatch& batch, const WantedTable& t, const std::string& name) {
  NftnlChain chain = chain_object(t, name);
  // Without NLM_F_NONREC the kernel deletes the chain's rules with it.
  batch.add(NFT_MSG_DELCHAIN, t.family, 0, "deleting chain " + name,
            [&](struct nlmsghdr* nlh) { nftnl_chain_nlmsg_build_payload(nlh, chain.get()); });
}

void flush_chain(NftBatch& batch, const WantedTable& t, const std::string& name) {
  NftnlRule rule = make_rule(t.family, t.name, name);  // no handle: all rules of the chain
  batch.add(NFT_MSG_DELRULE, t.family, 0, "flushing chain " + name,
            [&](struct nlmsghdr* nlh) { nftnl_rule_nlmsg_build_payload(nlh, rule.get()); });
}

void add_rules(NftBatch& batch, const WantedTable& t, const WantedChain& c) {
  for (const auto& rule : c.rules) {
    batch.add(NFT_MSG_NEWRULE, t.family, NLM_F_CREATE | NLM_F_APPEND, "adding rule to chain " + c.name,
              [&](struct nlmsghdr* nlh) { nftnl_rule_nlmsg_build_payload(nlh, rule.get()); });
  }
}

NftnlSet set_object(const WantedTable& t, const std::string& name) {
  NftnlSet set(nftnl_set_alloc());
  nftnl_set_set_str(set.get(), NFTNL_SET_TABLE, t.name.c_str());
  nftnl_set_set_str(set.get(), NFTNL_SET_NAME, name.c_str());
  return set;
}

void add_set(NftBatch& batch, const WantedTable& t, const WantedSet& m) {
  NftnlSet set = set_object(t, m.name);
  nftnl_set_set_u32(set.get(), NFTNL_SET_FAMILY, t.family);
  nftnl_set_set_u32(set.get(), NFTNL_SET_ID, m.set_id);
  nftnl_set_set_u32(set.get(), NFTNL_SET_FLAGS, m.verdict_map ? NFT_SET_MAP : 0);
  nftnl_set_set_u32(set.get(), NFTNL_SET_KEY_TYPE, m.key_type);
  nftnl_set_set_u32(set.get(), NFTNL_SET_KEY_LEN, m.key_len);
  if (m.verdict_map) nftnl_set_set_u32(set.get(), NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
  // nft(8) reads the key's byte order from userdata; without it it would show the marks
  // byte-swapped. Interface names are host order too (what nft(8) itself writes for ifname).
  NftnlUdataBuf udata(nftnl_udata_buf_alloc(64));
  nftnl_udata_put_u32(udata.get(), NFTNL_UDATA_SET_KEYBYTEORDER, m.key_byteorder);
  nftnl_set_set_data(set.get(), NFTNL_SET_USERDATA, nftnl_udata_buf_data(udata.get()),
                     nftnl_udata_buf_len(udata.get()));
  batch.add(NFT_MSG_NEWSET, t.family, NLM_F_CREATE, (m.verdict_map ? "adding map " : "adding set ") + m.name,
            [&](struct nlmsghdr* nlh) { nftnl_set_nlmsg_build_payload(nlh, set.get()); });
}

// Element messages in chunks of kMaxElementsPerMessage. A non-empty target makes the element
// jump there (verdict maps); deletions need only the keys.
void change_elements(NftBatch& batch, const WantedTable& t, const std::string& set_name, uint16_t type,
                     const std::map<std::string, std::string>& elements) {
  auto it = elements.begin();
  while (it != elements.end()) {
    NftnlSet set = set_object(t, set_name);
    size_t n = 0;
    for (; it != elements.end() && n < NftBatch::kMaxElementsPerMessage; ++it, ++n) {
      nftnl_set_elem* e = nftnl_set_elem_alloc();
      nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, it->first.data(), static_cast<uint32_t>(it->first.size()));
      if (type == NFT_MSG_NEWSETELEM && !it->second.empty()) {
        nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, static_cast<uint32_t>(NFT_JUMP));
        nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, it->second.c_str());
      }
      nftnl_set_elem_add(set.get(), e);  // the set owns it
    }
    std::string what = (type == NFT_MSG_NEWSETELEM ? "adding " : "deleting ") + std::to_string(n) +
                       " elements of " + set_name;
    batch.add(type, t.family, type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0, what,
              [&](struct nlmsghdr* nlh) { nftnl_set_elems_nlmsg_build_payload(nlh, set.get()); });
  }
}

// Elements of `from` that `other` lacks or maps elsewhere.
std::map<std::string, std::string> elements_not_in(const std::map<std::string, std::string>& from,
                                                   const std::map<std::string, std::string>& other) {
  std::map<std::string, std::string> out;
  for (const auto& [key, target] : from) {
    auto it = other.find(key);
    if (it == other.end() || it->second != target) out.emplace(key, target);
  }
  return out;
}

// A partial set's elements that `current` holds and should not: unwanted keys (unless listed
// again) and listed keys that jump elsewhere now.
std::map<std::string, std::string> elements_to_drop(const std::map<std::string, std::string>& current,
                                                    const WantedSet& m) {
  std::map<std::string, std::string> out;
  for (const auto& key : m.unwanted) {
    auto it = current.find(key);
    if (it != current.end() && m.elements.count(key) == 0) out.emplace(key, it->second);
  }
  for (const auto& [key, target] : m.elements) {
    auto it = current.find(key);
    if (it != current.end() && it->second != target) out.emplace(key, it->second);
  }
  return out;
}

Status check_compatible(const TableState& current, const WantedTable& wanted) {
  for (const auto& c : wanted.chains) {
    auto it = current.chains.find(c.name);
    if (it == current.chains.end()) continue;
    bool same = it->second.hook.has_value() == c.hook.has_value() && (!c.hook || it->second.hook->same_hook(*c.hook));
    if (!same)
      return make_error(EEXIST, "chain " + c.name + " of table " + wanted.name +
                                    " exists with another hook; delete the table (netd --teardown)");
  }
  for (const auto& m : wanted.sets) {
    auto it = current.sets.find(m.name);
    if (it == current.sets.end()) continue;
    const SetState& s = it->second;
    bool is_map = (s.flags & NFT_SET_MAP) != 0;
    if (is_map != m.verdict_map || (is_map && s.data_type != NFT_DATA_VERDICT) || s.key_len != m.key_len ||
        s.key_type != m.key_type)
      return make_error(EEXIST, "set " + m.name + " of table " + wanted.name +
                                    " exists with another type; delete the table (netd --teardown)");
  }
  return ok_status();
}

SetState set_state_of(const WantedSet& m, bool with_elements) {
  SetState set;
  set.flags = m.verdict_map ? NFT_SET_MAP : 0;
  set.key_type = m.key_type;
  set.key_len = m.key_len;
  set.data_type = m.verdict_map ? static_cast<uint32_t>(NFT_DATA_VERDICT) : 0u;
  if (with_elements) set.elements = m.elements;
  return set;
}

}  // namespace

std::string nft_key_u32(uint32_t value) { return std::string(reinterpret_cast<const char*>(&value), sizeof value); }

std::string nft_key_ifname(const std::string& name) {
  std::string key = name.substr(0, IFNAMSIZ);
  key.resize(IFNAMSIZ, '\0');
  return key;
}

Status plan_table(const TableState& current, const WantedTable& wanted, PlanScope scope, NftBatch& batch,
                  TableChanges* changes) {
  NETD_TRY(check_compatible(current, wanted));
  const bool everything = scope == PlanScope::kEverything;
  if (changes != nullptr && !everything) return make_error(EINVAL, "nft plan: changes are recorded only for a whole plan");
  TableChanges scratch;
  TableChanges& out = changes != nullptr ? *changes : scratch;
  out = TableChanges{};

  // Per wanted chain: whether its rules are written (new chain, or rules that differ) and
  // their canonical text.
  struct ChainPlan {
    const ChainState* now = nullptr;
    bool write_rules = false;
    std::vector<std::string> described;
  };
  std::vector<ChainPlan> chain_plans(everything ? wanted.chains.size() : 0);
  std::set<std::string_view> wanted_chains, wanted_sets;
  for (const auto& c : wanted.chains) wanted_chains.insert(c.name);
  for (const auto& m : wanted.sets) wanted_sets.insert(m.name);
  if (everything) {
    for (size_t i = 0; i < wanted.chains.size(); ++i) {
      const WantedChain& c = wanted.chains[i];
      ChainPlan& p = chain_plans[i];
      auto it = current.chains.find(c.name);
      if (it != current.chains.end()) p.now = &it->second;
      p.described = describe(c.rules);
      p.write_rules = p.now == nullptr || p.now->rules != p.described;
    }
  }

  // Order matters inside the transaction: references go before what they refer to
  // (elements → chains, rules → sets), creations before references to them.
  if (!current.exists) {
    add_table(batch, wanted);
    out.created = true;
  }

  if (everything) {
    // 1. Elements that are not wanted (also those whose key now jumps elsewhere).
    for (const auto& m : wanted.sets) {
      auto it = current.sets.find(m.name);
      if (it == current.sets.end()) continue;
      auto unwanted = m.partial ? elements_to_drop(it->second.elements, m) : elements_not_in(it->second.elements, m.elements);
      if (unwanted.empty()) continue;
      change_elements(batch, wanted, m.name, NFT_MSG_DELSETELEM, unwanted);
      out.deleted_elements[m.name] = std::move(unwanted);
    }
    // 2. Chains whose rules differ lose them (refilled in 7).
    for (size_t i = 0; i < wanted.chains.size(); ++i) {
      const ChainPlan& p = chain_plans[i];
      if (p.write_rules && p.now != nullptr && !p.now->rules.empty()) flush_chain(batch, wanted, wanted.chains[i].name);
    }
    // 3. Chains that are not wanted (slices that went away) lose their rules, which may refer
    // to sets going in 4; the chains themselves go in 5, once no set element of 4 jumps to them
    // (a table laid out otherwise before, say by an older netd).
    std::vector<std::string> unwanted_chains;
    auto drop_chain = [&](const std::string& name, const ChainState& now) {
      if (wanted_chains.count(name) != 0) return;
      if (!now.rules.empty()) flush_chain(batch, wanted, name);
      unwanted_chains.push_back(name);
    };
    if (wanted.partial) {
      for (const auto& name : wanted.unwanted_chains)
        if (auto it = current.chains.find(name); it != current.chains.end()) drop_chain(name, it->second);
    } else {
      for (const auto& [name, chain] : current.chains) drop_chain(name, chain);
    }
    // 4. Named sets that are not wanted (anonymous ones die with their rules).
    for (const auto& [name, set] : current.sets) {
      if (wanted_sets.count(name) != 0 || name.rfind("__", 0) == 0) continue;
      NftnlSet s = set_object(wanted, name);
      batch.add(NFT_MSG_DELSET, wanted.family, 0, "deleting set " + name,
                [&](struct nlmsghdr* nlh) { nftnl_set_nlmsg_build_payload(nlh, s.get()); });
      out.deleted_sets.push_back(name);
    }
    // 5. The unwanted chains.
    for (const auto& name : unwanted_chains) {
      delete_chain(batch, wanted, name);
      out.deleted_chains.push_back(name);
    }
  }
  // 6. Missing sets and chains.
  for (const auto& m : wanted.sets) {
    if (current.sets.count(m.name) != 0) continue;
    add_set(batch, wanted, m);
    if (everything) out.added_sets[m.name] = set_state_of(m, false);
  }
  for (size_t i = 0; i < wanted.chains.size(); ++i) {
    const WantedChain& c = wanted.chains[i];
    auto it = current.chains.find(c.name);
    if (it == current.chains.end()) {
      if (everything || c.hook) add_chain(batch, wanted, c);
    } else if (c.hook && everything && it->second.hook && it->second.hook->devices != c.hook->devices) {
      // Netdev hooks: new devices first, then the ones that went away.
      const std::set<std::string>& now = it->second.hook->devices;
      change_devices(batch, wanted, c.name, *c.hook, minus(c.hook->devices, now), true);
      change_devices(batch, wanted, c.name, *c.hook, minus(now, c.hook->devices), false);
    }
  }
  if (!everything) return ok_status();
  // 7. Rules of new chains and of chains whose rules differed; what the state records for
  // every chain that is new, rewritten or rehooked.
  for (size_t i = 0; i < wanted.chains.size(); ++i) {
    const WantedChain& c = wanted.chains[i];
    ChainPlan& p = chain_plans[i];
    if (p.write_rules) add_rules(batch, wanted, c);
    if (!p.write_rules && p.now->hook == c.hook) continue;
    out.chains[c.name] = ChainState{c.hook, std::move(p.described)};
  }
  // 8. Missing elements.
  for (const auto& m : wanted.sets) {
    auto it = current.sets.find(m.name);
    auto missing = it == current.sets.end() ? m.elements : elements_not_in(m.elements, it->second.elements);
    if (missing.empty()) continue;
    change_elements(batch, wanted, m.name, NFT_MSG_NEWSETELEM, missing);
    out.added_elements[m.name] = std::move(missing);
  }
  return ok_status();
}

void apply_changes(TableState& state, TableChanges changes) {
  if (changes.created) state.exists = true;
  for (auto& [set, elements] : changes.deleted_elements) {
    auto it = state.sets.find(set);
    if (it == state.sets.end()) continue;
    for (const auto& [key, target] : elements) it->second.elements.erase(key);
  }
  for (const auto& name : changes.deleted_chains) state.chains.erase(name);
  for (const auto& name : changes.deleted_sets) state.sets.erase(name);
  for (auto& [name, set] : changes.added_sets) state.sets[name] = std::move(set);
  for (auto& [name, chain] : changes.chains) state.chains[name] = std::move(chain);
  for (auto& [set, elements] : changes.added_elements) {
    SetState& s = state.sets[set];
    for (auto& [key, target] : elements) s.elements[key] = std::move(target);
  }
}

TableState state_of(const WantedTable& wanted) {
  TableState state;
  state.exists = true;
  for (const auto& c : wanted.chains) state.chains[c.name] = ChainState{c.hook, describe(c.rules)};
  for (const auto& m : wanted.sets) state.sets[m.name] = set_state_of(m, true);
  return state;
}

}  // namespace netd::kernel
