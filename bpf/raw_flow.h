/* BPF side only: the maps raw_filter.bpf.c and flow_record.bpf.c share (netd loads them
 * with the same pinned maps, so both objects must declare them identically) and the packet
 * parser both use, so the 5-tuple a socket filter looks up is built exactly like the one
 * cgroup_skb/egress recorded.
 *
 * All loads go through bpf_skb_load_bytes_relative(BPF_HDR_START_NET): offsets count from
 * the network header whatever skb->data points at (the MAC header on a packet socket, the
 * network or transport header on raw IP sockets, the network header at cgroup egress). */
#ifndef NETD_BPF_RAW_FLOW_H
#define NETD_BPF_RAW_FLOW_H

#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "netd_maps.h"

#define AF_INET 2
#define AF_INET6 10
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define PACKET_OTHERHOST 3
#define PACKET_OUTGOING 4
#define NETD_IPPROTO_ICMP 1
#define NETD_IPPROTO_TCP 6
#define NETD_IPPROTO_UDP 17
#define NETD_IPPROTO_ICMPV6 58
#define NETD_IPPROTO_RAW 255
#define NETD_SOCK_RAW 3

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, NETD_FLOW_MAX_ENTRIES);
  __type(key, struct netd_flow_key);
  __type(value, netd_mark_value_t);
} flows SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, NETD_PORT_MAX_ENTRIES);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct netd_port_key);
  __type(value, netd_mark_value_t);
} ports SEC(".maps");

/* Used by capture_filter only; flow_record declares it too so that netd creates and pins it
 * with the other raw/ maps, before any capture program is loaded. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, NETD_CAPTURE_MAX_ENTRIES);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, netd_ifindex_key_t);
  __type(value, __u32);
} capture_ifaces SEC(".maps");

/* Used by slice_filter only; flow_record declares it too so that netd creates and pins it
 * with the other raw/ maps (the epochs must outlive netd: sockets outlive it). */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, NETD_SLICE_EPOCH_MAX_ENTRIES);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, netd_mark_key_t);
  __type(value, __u32);
} slice_epochs SEC(".maps");

/* What the parser found. key is the tuple as on the wire (saddr = sender). */
struct netd_packet {
  struct netd_flow_key key;
  __u32 l4;         /* transport header offset from the network header */
  __u8 has_l4;      /* 0: non-first fragment or unparsed IPv6 extension header */
  __u8 has_ports;   /* TCP or UDP with both ports read */
  __u8 icmp_error;  /* ICMP/ICMPv6 error: the offending packet starts at l4 + 8 */
};

static __always_inline int load(struct __sk_buff *skb, __u32 off, void *to, __u32 len) {
  return bpf_skb_load_bytes_relative(skb, off, to, len, BPF_HDR_START_NET);
}

/* The IP header at `off`. Returns -1 if it is not one of the family `v6` says. */
static __always_inline int parse_ip(struct __sk_buff *skb, __u32 off, int v6, struct netd_packet *p) {
  if (!v6) {
    __u32 h[5];
    if (load(skb, off, h, sizeof h)) return -1;
    __u8 *b = (__u8 *)h;
    if ((b[0] >> 4) != 4) return -1;
    __u32 ihl = (b[0] & 0xf) * 4;
    if (ihl < 20) return -1;
    p->key.family = AF_INET;
    p->key.proto = b[9];
    __builtin_memcpy(p->key.saddr, &h[3], 4);
    __builtin_memcpy(p->key.daddr, &h[4], 4);
    /* A non-zero fragment offset: no transport header in this packet. */
    p->has_l4 = ((b[6] & 0x1f) | b[7]) == 0;
    p->l4 = off + ihl;
    return 0;
  }
  __u32 h[10];
  if (load(skb, off, h, sizeof h)) return -1;
  __u8 *b = (__u8 *)h;
  if ((b[0] >> 4) != 6) return -1;
  p->key.family = AF_INET6;
  p->key.proto = b[6];
  __builtin_memcpy(p->key.saddr, &h[2], 16);
  __builtin_memcpy(p->key.daddr, &h[6], 16);
  /* Extension headers are not walked (O(1)): their next header is not TCP/UDP/ICMPv6, so
   * the packet simply has no ports. */
  p->has_l4 = 1;
  p->l4 = off + 40;
  return 0;
}

static __always_inline int is_icmp_error(int v6, __u8 type) {
  if (v6) return type >= 1 && type <= 4; /* unreachable, too big, time exceeded, parameter */
  return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

static __always_inline int is_icmp_echo(int v6, __u8 type) {
  if (v6) return type == 128 || type == 129;
  return type == 8 || type == 0;
}

/* Ports (or the echo id) of the transport header; a short packet keeps zero ports. */
static __always_inline void parse_l4(struct __sk_buff *skb, int v6, struct netd_packet *p) {
  if (!p->has_l4) return;
  __u8 proto = p->key.proto;
  if (proto == NETD_IPPROTO_TCP || proto == NETD_IPPROTO_UDP) {
    __u16 ports[2];
    if (load(skb, p->l4, ports, sizeof ports)) return;
    p->key.sport = ports[0];
    p->key.dport = ports[1];
    p->has_ports = 1;
    return;
  }
  if (proto != (v6 ? NETD_IPPROTO_ICMPV6 : NETD_IPPROTO_ICMP)) return;
  __u16 icmp[4]; /* type/code, checksum, id, sequence */
  if (load(skb, p->l4, icmp, sizeof icmp)) return;
  __u8 type = *(__u8 *)icmp;
  if (is_icmp_echo(v6, type)) {
    /* Request and reply carry the same id: both "ports" hold it, so the reversed tuple of
     * a reply is the request's. */
    p->key.sport = icmp[2];
    p->key.dport = icmp[2];
  } else if (is_icmp_error(v6, type)) {
    p->icmp_error = 1;
  }
}

/* The packet's family from skb->protocol (-1: neither IPv4 nor IPv6). */
static __always_inline int family_v6(struct __sk_buff *skb) {
  if (skb->protocol == bpf_htons(ETH_P_IP)) return 0;
  if (skb->protocol == bpf_htons(ETH_P_IPV6)) return 1;
  return -1;
}

static __always_inline int parse_packet(struct __sk_buff *skb, int v6, struct netd_packet *p) {
  if (parse_ip(skb, 0, v6, p)) return -1;
  parse_l4(skb, v6, p);
  return 0;
}

#endif /* NETD_BPF_RAW_FLOW_H */
