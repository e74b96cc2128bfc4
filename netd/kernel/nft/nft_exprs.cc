#include "netd/kernel/nft/nft_exprs.h"

#include <linux/netfilter/nf_tables.h>

#include <cstdio>

namespace netd::kernel {
namespace {

NftnlExpr make_expr(const char* name) { return NftnlExpr(nftnl_expr_alloc(name)); }

void append(nftnl_rule* rule, NftnlExpr expr) { nftnl_rule_add_expr(rule, expr.release()); }  // rule owns it

std::string hex_bytes(const nftnl_expr* e, uint16_t attr) {
  uint32_t len = 0;
  const auto* data = static_cast<const unsigned char*>(nftnl_expr_get(e, attr, &len));
  std::string out;
  for (uint32_t i = 0; data != nullptr && i < len; ++i) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", data[i]);
    out += b;
  }
  return out;
}

std::string u32_attr(const nftnl_expr* e, uint16_t attr, const char* label) {
  if (!nftnl_expr_is_set(e, attr)) return "";
  return std::string(" ") + label + "=" + std::to_string(nftnl_expr_get_u32(e, attr));
}

std::string describe_expr(const nftnl_expr* e) {
  std::string name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
  std::string out = name;
  if (name == "meta") {
    out += u32_attr(e, NFTNL_EXPR_META_KEY, "key") + u32_attr(e, NFTNL_EXPR_META_DREG, "dreg") +
           u32_attr(e, NFTNL_EXPR_META_SREG, "sreg");
  } else if (name == "ct") {
    out += u32_attr(e, NFTNL_EXPR_CT_KEY, "key") + u32_attr(e, NFTNL_EXPR_CT_DREG, "dreg") +
           u32_attr(e, NFTNL_EXPR_CT_SREG, "sreg") + u32_attr(e, NFTNL_EXPR_CT_DIR, "dir");
  } else if (name == "bitwise") {
    out += u32_attr(e, NFTNL_EXPR_BITWISE_SREG, "sreg") + u32_attr(e, NFTNL_EXPR_BITWISE_DREG, "dreg") +
           u32_attr(e, NFTNL_EXPR_BITWISE_LEN, "len");
    if (nftnl_expr_is_set(e, NFTNL_EXPR_BITWISE_OP) && nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_OP) != 0)
      out += u32_attr(e, NFTNL_EXPR_BITWISE_OP, "op") + " data=" + hex_bytes(e, NFTNL_EXPR_BITWISE_DATA);
    out += " mask=" + hex_bytes(e, NFTNL_EXPR_BITWISE_MASK) + " xor=" + hex_bytes(e, NFTNL_EXPR_BITWISE_XOR);
  } else if (name == "lookup") {
    out += u32_attr(e, NFTNL_EXPR_LOOKUP_SREG, "sreg") + u32_attr(e, NFTNL_EXPR_LOOKUP_DREG, "dreg");
    if (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_SET))
      out += std::string(" set=") + nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
    if (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS) && nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS) != 0)
      out += u32_attr(e, NFTNL_EXPR_LOOKUP_FLAGS, "flags");
  } else if (name == "cmp") {
    out += u32_attr(e, NFTNL_EXPR_CMP_SREG, "sreg") + u32_attr(e, NFTNL_EXPR_CMP_OP, "op") +
           " data=" + hex_bytes(e, NFTNL_EXPR_CMP_DATA);
  } else if (name == "payload") {
    out += u32_attr(e, NFTNL_EXPR_PAYLOAD_BASE, "base") + u32_attr(e, NFTNL_EXPR_PAYLOAD_OFFSET, "offset") +
           u32_attr(e, NFTNL_EXPR_PAYLOAD_LEN, "len") + u32_attr(e, NFTNL_EXPR_PAYLOAD_DREG, "dreg") +
           u32_attr(e, NFTNL_EXPR_PAYLOAD_SREG, "sreg");
  } else if (name == "immediate") {
    out += u32_attr(e, NFTNL_EXPR_IMM_DREG, "dreg") + u32_attr(e, NFTNL_EXPR_IMM_VERDICT, "verdict");
    if (nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN))
      out += std::string(" chain=") + nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN);
    if (nftnl_expr_is_set(e, NFTNL_EXPR_IMM_DATA)) out += " data=" + hex_bytes(e, NFTNL_EXPR_IMM_DATA);
  } else if (name == "log") {
    if (nftnl_expr_is_set(e, NFTNL_EXPR_LOG_GROUP))
      out += " group=" + std::to_string(nftnl_expr_get_u16(e, NFTNL_EXPR_LOG_GROUP));
    out += u32_attr(e, NFTNL_EXPR_LOG_SNAPLEN, "snaplen");
    if (nftnl_expr_is_set(e, NFTNL_EXPR_LOG_QTHRESHOLD))
      out += " qthreshold=" + std::to_string(nftnl_expr_get_u16(e, NFTNL_EXPR_LOG_QTHRESHOLD));
    if (nftnl_expr_is_set(e, NFTNL_EXPR_LOG_PREFIX)) out += " (prefix)";
  } else if (name == "masq") {
    if (nftnl_expr_is_set(e, NFTNL_EXPR_MASQ_FLAGS) && nftnl_expr_get_u32(e, NFTNL_EXPR_MASQ_FLAGS) != 0)
      out += u32_attr(e, NFTNL_EXPR_MASQ_FLAGS, "flags");
    if (nftnl_expr_is_set(e, NFTNL_EXPR_MASQ_REG_PROTO_MIN)) out += " (proto range)";
  } else {
    out += " (not netd's)";  // never equal to a rule netd builds
  }
  return out;
}

}  // namespace

NftnlRule make_rule(uint16_t family, const std::string& table, const std::string& chain) {
  NftnlRule rule(nftnl_rule_alloc());
  nftnl_rule_set_u32(rule.get(), NFTNL_RULE_FAMILY, family);
  nftnl_rule_set_str(rule.get(), NFTNL_RULE_TABLE, table.c_str());
  nftnl_rule_set_str(rule.get(), NFTNL_RULE_CHAIN, chain.c_str());
  return rule;
}

namespace {

// meta and ct share one shape: a key plus either a destination (load) or a source (store) register.
void add_keyed(nftnl_rule* rule, const char* name, uint16_t key_attr, uint32_t key, uint16_t reg_attr,
               uint32_t reg) {
  NftnlExpr e = make_expr(name);
  nftnl_expr_set_u32(e.get(), key_attr, key);
  nftnl_expr_set_u32(e.get(), reg_attr, reg);
  append(rule, std::move(e));
}

}  // namespace

void add_meta_load(nftnl_rule* rule, uint32_t key, uint32_t dreg) {
  add_keyed(rule, "meta", NFTNL_EXPR_META_KEY, key, NFTNL_EXPR_META_DREG, dreg);
}

void add_meta_store(nftnl_rule* rule, uint32_t key, uint32_t sreg) {
  add_keyed(rule, "meta", NFTNL_EXPR_META_KEY, key, NFTNL_EXPR_META_SREG, sreg);
}

void add_ct_load(nftnl_rule* rule, uint32_t key, uint32_t dreg) {
  add_keyed(rule, "ct", NFTNL_EXPR_CT_KEY, key, NFTNL_EXPR_CT_DREG, dreg);
}

void add_ct_store(nftnl_rule* rule, uint32_t key, uint32_t sreg) {
  add_keyed(rule, "ct", NFTNL_EXPR_CT_KEY, key, NFTNL_EXPR_CT_SREG, sreg);
}

void add_bitwise_u32(nftnl_rule* rule, uint32_t reg, uint32_t and_mask, uint32_t xor_value) {
  NftnlExpr e = make_expr("bitwise");
  nftnl_expr_set_u32(e.get(), NFTNL_EXPR_BITWISE_SREG, reg);
  nftnl_expr_set_u32(e.get(), NFTNL_EXPR_BITWISE_DREG, reg);
  nftnl_expr_set_u32(e.get(), NFTNL_EXPR_BITWISE_LEN, sizeof(uint32_t));
  nftnl_expr_set(e.get(), NFTNL_EXPR_BITWISE_MASK, &and_mask, sizeof and_mask);
  nftnl_expr_set(e.get(), NFTNL_EXPR_BITWISE_XOR, &xor_value, sizeof xor_value);
  append(rule, std::move(e));
}

void add_vmap_lookup(nftnl_rule* rule, uint32_t sreg, const std::string& set, uint32_t set_id) {
  NftnlExpr e = make_expr("lookup");
  nftnl_expr_set_u32(e.get(), NFTNL_EXPR_LOOKUP_SREG, sreg);
  nftnl_expr_set_u32(e.get(), NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
  nftnl_expr_set_str(e.get(), NFTNL_EXPR_LOOKUP_SET, set.c_str());
  nftnl_expr_set_u32(e.get(), NFTNL_EXPR_LOOKUP_SET_ID, set_id);
  append(rule, std::move(e));
}

void add_set_lookup(nftnl_rule* rule, uint32_t sreg, const std::string& set, uint32_t set_id) {
  NftnlExpr e = make_expr("lookup");
  nftnl_expr_set_u32(e.get(), NFTNL_EXPR_LOOKUP_SREG, sreg);
  nftnl_expr_set_str(e.get(), NFTNL_EXPR_LOOKUP_SET, set.c_str());
  nftnl_expr_set_u32(e.get(), NFTNL_EXPR_LOOKUP_SET_ID, set_id);
  append(rule, std::move(e));
}

void add_cmp(nftnl_rule* rule, uint32_t sreg, uint32_t op, const void* data, uint32_t len) {
  NftnlExpr e = make_expr("cmp");
  nftnl_expr_set_u32(e.get(), NFTNL_EXPR_CMP_SREG, sreg);
  nftnl_expr_set_u32(e.get(), NFTNL_EXPR_CMP_OP, op);
  nftnl_expr_set(e.get(), NFTNL_EXPR_CMP_DATA, data, len);
  append(rule, std::move(e));
}

void add_cmp_u8(nftnl_rule* rule, uint32_t sreg, uint32_t op, uint8_t value) { add_cmp(rule, sreg, op, &value, 1); }

void add_cmp_u32(nftnl_rule* rule, uint32_t sreg, uint32_t op, uint32_t value) {
  add_cmp(rule, sreg, op, &value, sizeof value);
}

void add_payload_load(nftnl_rule* rule, uint32_t base, uint32_t offset, uint32_t len, uint32_t dreg) {
  NftnlExpr e = make_expr("payload");
  nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_BASE, base);
  nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_OFFSET, offset);
  nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_LEN, len);
  nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_DREG, dreg);
  append(rule, std::move(e));
}

void add_verdict(nftnl_rule* rule, int verdict) {
  NftnlExpr e = make_expr("immediate");
  nftnl_expr_set_u32(e.get(), NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
  nftnl_expr_set_u32(e.get(), NFTNL_EXPR_IMM_VERDICT, static_cast<uint32_t>(verdict));
  append(rule, std::move(e));
}

void add_chain_verdict(nftnl_rule* rule, int verdict, const std::string& chain) {
  NftnlExpr e = make_expr("immediate");
  nftnl_expr_set_u32(e.get(), NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
  nftnl_expr_set_u32(e.get(), NFTNL_EXPR_IMM_VERDICT, static_cast<uint32_t>(verdict));
  nftnl_expr_set_str(e.get(), NFTNL_EXPR_IMM_CHAIN, chain.c_str());
  append(rule, std::move(e));
}

void add_log_group(nftnl_rule* rule, uint16_t group, uint32_t snaplen, uint16_t qthreshold) {
  NftnlExpr e = make_expr("log");
  nftnl_expr_set_u16(e.get(), NFTNL_EXPR_LOG_GROUP, group);
  nftnl_expr_set_u32(e.get(), NFTNL_EXPR_LOG_SNAPLEN, snaplen);
  nftnl_expr_set_u16(e.get(), NFTNL_EXPR_LOG_QTHRESHOLD, qthreshold);
  append(rule, std::move(e));
}

void add_masquerade(nftnl_rule* rule) { append(rule, make_expr("masq")); }

std::string describe_rule(const nftnl_rule* rule) {
  std::string out;
  NftnlExprIter iter(nftnl_expr_iter_create(rule));
  for (nftnl_expr* e = nftnl_expr_iter_next(iter.get()); e != nullptr; e = nftnl_expr_iter_next(iter.get())) {
    if (!out.empty()) out += "; ";
    out += describe_expr(e);
  }
  return out;
}

}  // namespace netd::kernel
