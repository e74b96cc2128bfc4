// SPDX-License-Identifier: GPL-2.0
/* What the raw socket filters (raw_filter.bpf.c) need to know, recorded where the kernel
 * still knows which slice a packet or socket belongs to; attached at the cgroup root with
 * pinned bpf_links, like vif_guard.bpf.c. Only netd's netns counts (netns_cookie): flows
 * and ports of other namespaces mean nothing there.
 *
 *   record_egress (cgroup_skb/egress): a packet with slice bits in its mark records its
 *     5-tuple → slice mark in flows (looked up first: most packets belong to a known flow,
 *     and an update costs an LRU lock). A packet of a raw socket netd handed out (its
 *     socket's mark carries raw_flag) that is TCP/UDP on a flow or bound port of another
 *     slice — or whose source port a socket of anyone else holds (the kernel's socket
 *     lookup) — is dropped: a raw socket must not inject into other users' connections. So is
 *     a raw IP socket's packet of another protocol than the socket's (IP_HDRINCL), unless it
 *     is an IPPROTO_RAW socket, and an IPv6 one whose next header is an extension header.
 *   owner_bind4/6 (cgroup/bind4|6): post_bind programs cannot read the socket's mark, so
 *     the bind hook notes it in the socket's local storage (port_owners) first.
 *   port_bind4/6 (cgroup/post_bind4|6): an explicitly bound TCP/UDP port of a marked socket
 *     → ports (the port is known only after the kernel picked one for bind(port 0)).
 *   port_release (cgroup/sock_release): the socket's ports entry goes away with it, unless
 *     another socket of another slice took the port over meanwhile. */
#include "raw_flow.h"

/* Set by netd before load: the slice bits of a mark, the bit marking handed-out raw
 * sockets, and the netns netd runs in. */
const volatile __u32 mark_mask = 0;
const volatile __u32 raw_flag = 0;
const volatile __u64 netns_cookie = 0;

struct {
  __uint(type, BPF_MAP_TYPE_SK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct netd_port_owner);
} port_owners SEC(".maps");

static __always_inline int other_slice(void *map, const void *key, __u32 mark) {
  netd_mark_value_t *owner = bpf_map_lookup_elem(map, key);
  return owner && *owner != mark;
}

/* The socket of this netns that would receive the reverse of the packet — the owner of the
 * packet's source port, established or listening, marked or not — unless it is the slice's.
 * The kernel's own socket tables: covers sockets of non-members (system services) too. */
static __always_inline int port_owned_elsewhere(struct __sk_buff *skb, const struct netd_packet *p, __u32 mark) {
  struct bpf_sock_tuple t = {};
  __u32 size;
  if (p->key.family == AF_INET) {
    __builtin_memcpy(&t.ipv4.saddr, p->key.daddr, 4);
    __builtin_memcpy(&t.ipv4.daddr, p->key.saddr, 4);
    t.ipv4.sport = p->key.dport;
    t.ipv4.dport = p->key.sport;
    size = sizeof t.ipv4;
  } else {
    __builtin_memcpy(t.ipv6.saddr, p->key.daddr, 16);
    __builtin_memcpy(t.ipv6.daddr, p->key.saddr, 16);
    t.ipv6.sport = p->key.dport;
    t.ipv6.dport = p->key.sport;
    size = sizeof t.ipv6;
  }
  struct bpf_sock *sk = p->key.proto == NETD_IPPROTO_TCP
                            ? bpf_sk_lookup_tcp(skb, &t, size, BPF_F_CURRENT_NETNS, 0)
                            : bpf_sk_lookup_udp(skb, &t, size, BPF_F_CURRENT_NETNS, 0);
  if (!sk) return 0;
  int other = (sk->mark & mark_mask) != mark;
  bpf_sk_release(sk);
  return other;
}

/* IPv6 next-header values that are extension headers (RFC 8200 and the IANA list). */
static __always_inline int ipv6_extension_header(__u8 nexthdr) {
  switch (nexthdr) {
    case 0: case 43: case 44: case 50: case 51: case 60: case 135: case 139: case 140: case 253: case 254:
      return 1;
  }
  return 0;
}

SEC("cgroup_skb/egress")
int record_egress(struct __sk_buff *skb) {
  __u32 mark = skb->mark & mark_mask;
  if (!mark) return 1;
  if (bpf_get_netns_cookie(skb) != netns_cookie) return 1;
  int v6 = family_v6(skb);
  if (v6 < 0) return 1;
  struct netd_packet p = {};
  if (parse_packet(skb, v6, &p)) return 1;

  /* The socket's mark, not the packet's: nft's raw_output clears raw_flag from packets it
   * let through, and that hook runs before this one. */
  int raw = (skb->mark & raw_flag) != 0;
  struct bpf_sock *sk = skb->sk;
  if (sk) sk = bpf_sk_fullsock(sk);
  if (sk && (sk->mark & raw_flag)) raw = 1;
  if (raw && sk && sk->type == NETD_SOCK_RAW && (sk->family == AF_INET || sk->family == AF_INET6)) {
    /* A raw socket of one protocol writes only that protocol: with IP_HDRINCL/IPV6_HDRINCL an
     * icmp-only slice would write TCP. IPPROTO_RAW sockets go only to slices holding every
     * kind, and write any. */
    if (sk->protocol != NETD_IPPROTO_RAW && p.key.proto != sk->protocol) return 0;
    /* Extension headers are not walked (O(1)), so the ports behind them could not be checked:
     * such packets do not leave a raw socket. */
    if (v6 && ipv6_extension_header(p.key.proto)) return 0;
  }
  if (raw && p.has_ports) {
    if (other_slice(&flows, &p.key, mark)) return 0;
    struct netd_port_key port = {.family = p.key.family, .proto = p.key.proto, .port = p.key.sport};
    __builtin_memcpy(port.addr, p.key.saddr, 16);
    if (other_slice(&ports, &port, mark)) return 0;
    struct netd_port_key wildcard = {.proto = p.key.proto, .port = p.key.sport};
    if (other_slice(&ports, &wildcard, mark)) return 0;
    if (port_owned_elsewhere(skb, &p, mark)) return 0;
  }

  netd_mark_value_t *known = bpf_map_lookup_elem(&flows, &p.key);
  if (!known || *known != mark) bpf_map_update_elem(&flows, &p.key, &mark, BPF_ANY);
  return 1;
}

static __always_inline int note_owner(struct bpf_sock_addr *ctx) {
  struct bpf_sock *sk = ctx->sk;
  if (!sk) return 1;
  __u32 mark = sk->mark & mark_mask;
  if (!mark) return 1;
  if (sk->protocol != NETD_IPPROTO_TCP && sk->protocol != NETD_IPPROTO_UDP) return 1;
  if (bpf_get_netns_cookie(ctx) != netns_cookie) return 1;
  struct netd_port_owner *owner = bpf_sk_storage_get(&port_owners, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
  if (owner && !owner->bound) owner->mark = mark;
  return 1; /* never refuses a bind: that is VifGuard's business */
}

SEC("cgroup/bind4")
int owner_bind4(struct bpf_sock_addr *ctx) { return note_owner(ctx); }

SEC("cgroup/bind6")
int owner_bind6(struct bpf_sock_addr *ctx) { return note_owner(ctx); }

static __always_inline void enter_port(struct bpf_sock *ctx, struct netd_port_owner *owner,
                                       struct netd_port_key *key) {
  key->proto = ctx->protocol;
  key->port = bpf_htons((__u16)ctx->src_port); /* host byte order in bpf_sock */
  bpf_map_update_elem(&ports, key, &owner->mark, BPF_ANY);
  owner->key = *key;
  owner->bound = 1;
}

SEC("cgroup/post_bind4")
int port_bind4(struct bpf_sock *ctx) {
  struct netd_port_owner *owner = bpf_sk_storage_get(&port_owners, ctx, 0, 0);
  if (!owner || !owner->mark) return 1;
  struct netd_port_key key = {};
  __u32 ip = ctx->src_ip4;
  if (ip) {
    key.family = AF_INET;
    __builtin_memcpy(key.addr, &ip, 4);
  }
  enter_port(ctx, owner, &key);
  return 1;
}

SEC("cgroup/post_bind6")
int port_bind6(struct bpf_sock *ctx) {
  struct netd_port_owner *owner = bpf_sk_storage_get(&port_owners, ctx, 0, 0);
  if (!owner || !owner->mark) return 1;
  /* src_ip6 must be read as four 32-bit words. */
  __u32 w0 = ctx->src_ip6[0], w1 = ctx->src_ip6[1], w2 = ctx->src_ip6[2], w3 = ctx->src_ip6[3];
  struct netd_port_key key = {};
  if (w0 == 0 && w1 == 0 && w2 == bpf_htonl(0xffff)) {
    key.family = AF_INET; /* ::ffff:a.b.c.d binds the IPv4 address */
    __builtin_memcpy(key.addr, &w3, 4);
  } else if (w0 | w1 | w2 | w3) {
    __u32 words[4] = {w0, w1, w2, w3};
    key.family = AF_INET6;
    __builtin_memcpy(key.addr, words, 16);
  } /* else [::]: the family-less wildcard */
  enter_port(ctx, owner, &key);
  return 1;
}

SEC("cgroup/sock_release")
int port_release(struct bpf_sock *ctx) {
  struct netd_port_owner *owner = bpf_sk_storage_get(&port_owners, ctx, 0, 0);
  if (!owner || !owner->bound) return 1;
  struct netd_port_key key = owner->key;
  netd_mark_value_t *holder = bpf_map_lookup_elem(&ports, &key);
  if (holder && *holder == owner->mark) bpf_map_delete_elem(&ports, &key);
  return 1;
}

char LICENSE[] SEC("license") = "GPL";
