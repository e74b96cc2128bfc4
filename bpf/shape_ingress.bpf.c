// SPDX-License-Identifier: GPL-2.0
/* Ingress classifier for per-slice download shaping. Attached with tcx (a bpf_link at
 * BPF_TCX_INGRESS) on every uplink. A packet's slice is the mark of the local socket the
 * kernel will deliver it to, or (no local socket: forwarded to a vif, NATed replies) the
 * conntrack mark netd's nft rules gave its flow. The program writes the slice's HTB classid
 * into skb->priority and redirects the packet to the uplink's IFB, whose HTB root (no
 * filters) takes the class from skb->priority, and which re-injects the packet into the
 * uplink's receive path (without running this hook again) once its class may send.
 *
 * Per packet: one socket lookup (one skc lookup covers established, request and timewait
 * sockets), at most one conntrack lookup, two hash lookups; no map writes.
 *
 * Trust: the mark comes from the socket (set by netd, or SO_MARK which needs
 * CAP_NET_ADMIN) or from conntrack (set by netd's nft), never from the packet; the priority
 * is always overwritten, so a slice's SO_PRIORITY changes nothing.
 *
 * SEC("tc"): libbpf 1.1 does not know "tcx/ingress"; the kernel accepts a SCHED_CLS program
 * at BPF_TCX_INGRESS whatever its expected attach type. Headers are read with
 * bpf_skb_load_bytes: GRO skbs need not have them in the linear part, and clang 14 turns
 * the direct-access forms into code the verifier refuses. */
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "shape_maps.h"

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IP_OFFSET_MASK 0x1fff
#define PROTO_TCP 6
#define PROTO_UDP 17

/* Set by netd before load: the mark bits that hold the slice id. */
const volatile __u32 mark_mask = 0;

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, NETD_SHAPE_MAX_ENTRIES);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, netd_shape_key_t);
  __type(value, netd_shape_classid_t);
} shape_in_classes SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, NETD_SHAPE_MAX_UPLINKS);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, netd_shape_ifindex_t);   /* the uplink */
  __type(value, netd_shape_ifindex_t); /* its IFB */
} shape_in_ifb SEC(".maps");

/* Weak: a kernel without conntrack's BPF kfuncs loads the program without them (libbpf
 * then resolves the address to 0, and the branch that tests it is removed). */
struct nf_conn *bpf_skb_ct_lookup(struct __sk_buff *skb, struct bpf_sock_tuple *tuple, __u32 tuple__sz,
                                  struct bpf_ct_opts *opts, __u32 opts__sz) __ksym __weak;
void bpf_ct_release(struct nf_conn *ct) __ksym __weak;

struct flow {
  struct bpf_sock_tuple tuple; /* as the packet has it: remote → local */
  __u8 ipv6;
  __u8 proto;
  __u8 pure_syn; /* TCP SYN without ACK: may open a connection on a listener */
};

/* The tuple's size for the lookups: a constant per branch, which the verifier can bound (a
 * length kept in the struct is reloaded from the stack as an unbounded scalar). */
static __always_inline __u32 tuple_len(const struct flow *f) {
  return f->ipv6 ? sizeof(f->tuple.ipv6) : sizeof(f->tuple.ipv4);
}

/* Conntrack's mark of the packet's flow (either direction), 0 if it has no entry. Runs
 * before netfilter: the first packet of a new inbound flow has none yet. */
static __always_inline __u32 ct_mark(struct __sk_buff *skb, struct flow *f) {
  if (!bpf_skb_ct_lookup || !bpf_ct_release) return 0;
  struct bpf_ct_opts opts = {.netns_id = BPF_F_CURRENT_NETNS, .l4proto = f->proto};
  struct nf_conn *ct = bpf_skb_ct_lookup(skb, &f->tuple, tuple_len(f), &opts, sizeof(opts));
  if (!ct) return 0;
  __u32 mark = ct->mark;
  bpf_ct_release(ct);
  return mark;
}

static __always_inline __u32 tcp_mark(struct __sk_buff *skb, struct flow *f) {
  struct bpf_sock *sk = bpf_skc_lookup_tcp(skb, &f->tuple, tuple_len(f), BPF_F_CURRENT_NETNS, 0);
  if (!sk) return ct_mark(skb, f);
  __u32 mark = 0;
  int listener_guess = 0;
  struct bpf_sock *full = bpf_sk_fullsock(sk);
  if (full) {
    mark = full->mark;
    /* Only a SYN is really for a listener. Anything else that matches one (a masqueraded
     * vif flow whose NAT port is a wildcard listener's port) is asked of conntrack first,
     * or it would be charged to the listener's slice. */
    listener_guess = full->state == BPF_TCP_LISTEN && !f->pure_syn;
  } else {
    /* Request socket (the handshake's last ACK): the mark the kernel copied from the
     * listener; timewait: the mark of the closed socket. */
    struct tcp_request_sock *req = bpf_skc_to_tcp_request_sock(sk);
    if (req) {
      mark = req->req.ir_mark;
    } else {
      struct tcp_timewait_sock *tw = bpf_skc_to_tcp_timewait_sock(sk);
      if (tw) mark = tw->tw_sk.tw_mark;
    }
  }
  bpf_sk_release(sk);
  if (listener_guess) {
    __u32 ct = ct_mark(skb, f);
    if (ct) return ct;
  }
  return mark;
}

static __always_inline __u32 udp_mark(struct __sk_buff *skb, struct flow *f) {
  struct bpf_sock *sk = bpf_sk_lookup_udp(skb, &f->tuple, tuple_len(f), BPF_F_CURRENT_NETNS, 0);
  if (!sk) return ct_mark(skb, f);
  __u32 mark = sk->mark;
  bpf_sk_release(sk);
  return mark;
}

/* Fills `f` from the packet's headers; 0 when it is no TCP/UDP packet with ports to look
 * up (other protocols, IPv6 extension headers, non-first fragments, short packets). */
static __always_inline int parse(struct __sk_buff *skb, struct flow *f) {
  __be16 h_proto;
  __u32 l4off;
  if (bpf_skb_load_bytes(skb, 12, &h_proto, sizeof(h_proto))) return 0;
  if (h_proto == bpf_htons(ETH_P_IP)) {
    struct iphdr ip;
    if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip))) return 0;
    if (ip.ihl < 5 || (ip.frag_off & bpf_htons(IP_OFFSET_MASK))) return 0;
    f->proto = ip.protocol;
    f->tuple.ipv4.saddr = ip.saddr;
    f->tuple.ipv4.daddr = ip.daddr;
    l4off = ETH_HLEN + ip.ihl * 4;
  } else if (h_proto == bpf_htons(ETH_P_IPV6)) {
    struct ipv6hdr ip6;
    if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip6, sizeof(ip6))) return 0;
    f->proto = ip6.nexthdr; /* an extension header is no TCP/UDP here: default class */
    __builtin_memcpy(f->tuple.ipv6.saddr, &ip6.saddr, 16);
    __builtin_memcpy(f->tuple.ipv6.daddr, &ip6.daddr, 16);
    f->ipv6 = 1;
    l4off = ETH_HLEN + sizeof(ip6);
  } else {
    return 0;
  }
  __be16 ports[2];
  if (f->proto == PROTO_TCP) {
    struct tcphdr tcp;
    if (bpf_skb_load_bytes(skb, l4off, &tcp, sizeof(tcp))) return 0;
    ports[0] = tcp.source;
    ports[1] = tcp.dest;
    f->pure_syn = tcp.syn && !tcp.ack;
  } else if (f->proto == PROTO_UDP) {
    if (bpf_skb_load_bytes(skb, l4off, ports, sizeof(ports))) return 0;
  } else {
    return 0;
  }
  if (!f->ipv6) {
    f->tuple.ipv4.sport = ports[0];
    f->tuple.ipv4.dport = ports[1];
  } else {
    f->tuple.ipv6.sport = ports[0];
    f->tuple.ipv6.dport = ports[1];
  }
  return 1;
}

SEC("tc")
int shape_ingress(struct __sk_buff *skb) {
  struct flow f = {};
  __u32 mark = 0;
  if (parse(skb, &f)) mark = f.proto == PROTO_TCP ? tcp_mark(skb, &f) : udp_mark(skb, &f);

  netd_shape_key_t key = mark & mark_mask;
  netd_shape_classid_t *classid = bpf_map_lookup_elem(&shape_in_classes, &key);
  if (!classid && key != 0) {
    key = 0;
    classid = bpf_map_lookup_elem(&shape_in_classes, &key);
  }
  skb->priority = classid ? *classid : 0;

  netd_shape_ifindex_t uplink = skb->ifindex;
  netd_shape_ifindex_t *ifb = bpf_map_lookup_elem(&shape_in_ifb, &uplink);
  if (!ifb) return TCX_NEXT;
  return bpf_redirect(*ifb, 0);
}

char LICENSE[] SEC("license") = "GPL";
