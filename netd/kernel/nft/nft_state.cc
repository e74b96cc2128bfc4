#include "netd/kernel/nft/nft_state.h"

#include <linux/netfilter/nf_tables.h>

#include "netd/kernel/nft/nft_exprs.h"
#include "netd/kernel/nft/nftnl_ptr.h"

namespace netd::kernel {
namespace {

struct Buffer {
  alignas(struct nlmsghdr) char data[8192];  // requests are a few attributes
};


Result<bool> table_exists(NftSocket& socket, uint16_t family, const std::string& name) {
  Buffer buf;
  struct nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data, NFT_MSG_GETTABLE, family, NLM_F_ACK, 0);
  NftnlTable t(nftnl_table_alloc());
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, name.c_str());
  nftnl_table_nlmsg_build_payload(nlh, t.get());
  Status st = socket.request(nlh, [](const struct nlmsghdr*) { return ok_status(); });
  if (st.ok()) return true;
  if (st.error().code == ENOENT) return false;
  return std::move(st).error().with_context("reading table " + name);
}

Status read_chains(NftSocket& socket, uint16_t family, const std::string& table, TableState& state) {
  Buffer buf;
  struct nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data, NFT_MSG_GETCHAIN, family, NLM_F_DUMP, 0);
  NftnlChain filter(nftnl_chain_alloc());
  nftnl_chain_set_str(filter.get(), NFTNL_CHAIN_TABLE, table.c_str());
  nftnl_chain_nlmsg_build_payload(nlh, filter.get());
  return socket.request(nlh, [&](const struct nlmsghdr* msg) -> Status {
    NftnlChain c(nftnl_chain_alloc());
    if (nftnl_chain_nlmsg_parse(msg, c.get()) < 0) return errno_error("parsing chain");
    if (table != nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TABLE)) return ok_status();  // older kernels dump all
    ChainState& chain = state.chains[nftnl_chain_get_str(c.get(), NFTNL_CHAIN_NAME)];
    if (nftnl_chain_is_set(c.get(), NFTNL_CHAIN_HOOKNUM)) {
      chain.hook = BaseHook{nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_HOOKNUM),
                            nftnl_chain_get_s32(c.get(), NFTNL_CHAIN_PRIO),
                            nftnl_chain_is_set(c.get(), NFTNL_CHAIN_TYPE) ? nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TYPE) : "",
                            {}};
      // The kernel reports a chain's devices as a list, and a single one also on its own.
      if (nftnl_chain_is_set(c.get(), NFTNL_CHAIN_DEVICES)) {
        const char* const* devs = nftnl_chain_get_array(c.get(), NFTNL_CHAIN_DEVICES);
        for (size_t i = 0; devs != nullptr && devs[i] != nullptr; ++i) chain.hook->devices.insert(devs[i]);
      } else if (nftnl_chain_is_set(c.get(), NFTNL_CHAIN_DEV)) {
        chain.hook->devices.insert(nftnl_chain_get_str(c.get(), NFTNL_CHAIN_DEV));
      }
    }
    return ok_status();
  });
}

Status read_rules(NftSocket& socket, uint16_t family, const std::string& table, TableState& state) {
  Buffer buf;
  struct nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data, NFT_MSG_GETRULE, family, NLM_F_DUMP, 0);
  NftnlRule filter(nftnl_rule_alloc());
  nftnl_rule_set_str(filter.get(), NFTNL_RULE_TABLE, table.c_str());
  nftnl_rule_nlmsg_build_payload(nlh, filter.get());
  return socket.request(nlh, [&](const struct nlmsghdr* msg) -> Status {
    NftnlRule r(nftnl_rule_alloc());
    if (nftnl_rule_nlmsg_parse(msg, r.get()) < 0) return errno_error("parsing rule");
    if (table != nftnl_rule_get_str(r.get(), NFTNL_RULE_TABLE)) return ok_status();
    state.chains[nftnl_rule_get_str(r.get(), NFTNL_RULE_CHAIN)].rules.push_back(describe_rule(r.get()));
    return ok_status();
  });
}

Status read_sets(NftSocket& socket, uint16_t family, const std::string& table, TableState& state) {
  Buffer buf;
  struct nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data, NFT_MSG_GETSET, family, NLM_F_DUMP, 0);
  NftnlSet filter(nftnl_set_alloc());
  nftnl_set_set_str(filter.get(), NFTNL_SET_TABLE, table.c_str());
  nftnl_set_nlmsg_build_payload(nlh, filter.get());
  return socket.request(nlh, [&](const struct nlmsghdr* msg) -> Status {
    NftnlSet s(nftnl_set_alloc());
    if (nftnl_set_nlmsg_parse(msg, s.get()) < 0) return errno_error("parsing set");
    if (table != nftnl_set_get_str(s.get(), NFTNL_SET_TABLE)) return ok_status();
    SetState& set = state.sets[nftnl_set_get_str(s.get(), NFTNL_SET_NAME)];
    set.flags = nftnl_set_get_u32(s.get(), NFTNL_SET_FLAGS);
    set.key_type = nftnl_set_get_u32(s.get(), NFTNL_SET_KEY_TYPE);
    set.key_len = nftnl_set_get_u32(s.get(), NFTNL_SET_KEY_LEN);
    set.data_type = nftnl_set_get_u32(s.get(), NFTNL_SET_DATA_TYPE);
    return ok_status();
  });
}

Status read_elements(NftSocket& socket, uint16_t family, const std::string& table, const std::string& set_name,
                     SetState& set) {
  Buffer buf;
  struct nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data, NFT_MSG_GETSETELEM, family, NLM_F_DUMP, 0);
  NftnlSet filter(nftnl_set_alloc());
  nftnl_set_set_str(filter.get(), NFTNL_SET_TABLE, table.c_str());
  nftnl_set_set_str(filter.get(), NFTNL_SET_NAME, set_name.c_str());
  nftnl_set_elems_nlmsg_build_payload(nlh, filter.get());
  return socket.request(nlh, [&](const struct nlmsghdr* msg) -> Status {
    NftnlSet s(nftnl_set_alloc());
    if (nftnl_set_elems_nlmsg_parse(msg, s.get()) < 0) return errno_error("parsing elements of " + set_name);
    NftnlSetElemsIter iter(nftnl_set_elems_iter_create(s.get()));
    for (nftnl_set_elem* e = nftnl_set_elems_iter_next(iter.get()); e != nullptr;
         e = nftnl_set_elems_iter_next(iter.get())) {
      uint32_t len = 0;
      const void* key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
      if (key == nullptr) continue;
      std::string target;
      if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN) &&
          nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT) == static_cast<uint32_t>(NFT_JUMP))
        target = nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN);
      set.elements[std::string(static_cast<const char*>(key), len)] = target;
    }
    return ok_status();
  });
}

}  // namespace

Result<uint32_t> read_genid(NftSocket& socket) {
  Buffer buf;
  struct nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, 0);
  uint32_t genid = 0;
  NETD_TRY(socket.request(nlh, [&](const struct nlmsghdr* msg) -> Status {
    NftnlGen gen(nftnl_gen_alloc());
    if (nftnl_gen_nlmsg_parse(msg, gen.get()) < 0) return errno_error("parsing nf_tables generation");
    genid = nftnl_gen_get_u32(gen.get(), NFTNL_GEN_ID);
    return ok_status();
  }));
  return genid;
}

Result<TableState> read_table_state(NftSocket& socket, uint16_t family, const std::string& table) {
  TableState state;
  NETD_ASSIGN_OR_RETURN(state.genid, read_genid(socket));
  NETD_ASSIGN_OR_RETURN(state.exists, table_exists(socket, family, table));
  if (!state.exists) return state;
  NETD_TRY(read_chains(socket, family, table, state));
  NETD_TRY(read_rules(socket, family, table, state));
  NETD_TRY(read_sets(socket, family, table, state));
  for (auto& [name, set] : state.sets) {
    if (set.flags & NFT_SET_ANONYMOUS) continue;
    NETD_TRY(read_elements(socket, family, table, name, set));
  }
  return state;
}

}  // namespace netd::kernel
