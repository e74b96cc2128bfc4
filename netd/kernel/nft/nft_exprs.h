// Building nf_tables rules from expressions, and describing rules canonically so a rule read
// back from the kernel can be compared with the one netd would build.
#pragma once

#include <cstdint>
#include <string>

#include "netd/kernel/nft/nftnl_ptr.h"

namespace netd::kernel {

NftnlRule make_rule(uint16_t family, const std::string& table, const std::string& chain);

// reg ← meta KEY / meta KEY ← reg   (NFT_META_MARK: skb->mark)
void add_meta_load(nftnl_rule* rule, uint32_t key, uint32_t dreg);
void add_meta_store(nftnl_rule* rule, uint32_t key, uint32_t sreg);
// reg ← ct KEY / ct KEY ← reg       (NFT_CT_MARK: the conntrack entry's mark)
void add_ct_load(nftnl_rule* rule, uint32_t key, uint32_t dreg);
void add_ct_store(nftnl_rule* rule, uint32_t key, uint32_t sreg);
// reg ← (reg & and_mask) ^ xor_value, on 4 host-order bytes
void add_bitwise_u32(nftnl_rule* rule, uint32_t reg, uint32_t and_mask, uint32_t xor_value);
// verdict ← map[reg]   (a vmap lookup; set_id lets it refer to a map made in the same batch)
void add_vmap_lookup(nftnl_rule* rule, uint32_t sreg, const std::string& set, uint32_t set_id);
// reg ∈ set, else the rule stops here   (`iifname @vifs`)
void add_set_lookup(nftnl_rule* rule, uint32_t sreg, const std::string& set, uint32_t set_id);
// reg OP data, else the rule stops here (op: NFT_CMP_EQ, ...); data is as many bytes as the
// loaded value (1 for a u8 header field, 4 for a mark)
void add_cmp(nftnl_rule* rule, uint32_t sreg, uint32_t op, const void* data, uint32_t len);
void add_cmp_u8(nftnl_rule* rule, uint32_t sreg, uint32_t op, uint8_t value);
void add_cmp_u32(nftnl_rule* rule, uint32_t sreg, uint32_t op, uint32_t value);
// reg ← len bytes at offset of header `base` (NFT_PAYLOAD_TRANSPORT_HEADER, ...)
void add_payload_load(nftnl_rule* rule, uint32_t base, uint32_t offset, uint32_t len, uint32_t dreg);
// a verdict: NF_ACCEPT, NF_DROP
void add_verdict(nftnl_rule* rule, int verdict);
// jump CHAIN (NFT_JUMP) or goto CHAIN (NFT_GOTO)
void add_chain_verdict(nftnl_rule* rule, int verdict, const std::string& chain);
// log the packet to NFLOG group `group` (copying at most `snaplen` bytes, sent to the
// listener once `qthreshold` packets are queued or the instance's flush timeout passes)
void add_log_group(nftnl_rule* rule, uint16_t group, uint32_t snaplen, uint16_t qthreshold);
// source NAT to the outgoing interface's address (nat chains in postrouting only)
void add_masquerade(nftnl_rule* rule);

// "meta key=3 dreg=1; bitwise sreg=1 dreg=1 len=4 mask=0000ff0f xor=00000000; ..." from the
// attributes the kernel reports back. Attributes only needed to build a rule (set ids) and
// zero defaults the kernel adds on dump (bitwise op, lookup flags) are left out.
std::string describe_rule(const nftnl_rule* rule);

}  // namespace netd::kernel
