// SPDX-License-Identifier: GPL-2.0
/* Owner-only delivery on vifs. A vif (TUN/TAP device netd made for a slice) belongs to one
 * slice; what arrives on it must reach only that slice's sockets, and only that slice may
 * bind its addresses. Three programs in one object because they share the maps and the
 * rodata; netd attaches each at the cgroup root with a pinned bpf_link.
 *
 *   vif_ingress (cgroup_skb/ingress): a packet that arrived on a vif is delivered only to a
 *     socket whose mark & mark_mask is the owner's mark. Covers wildcard listeners of other
 *     uids (0.0.0.0:53, [::]:22), which routing and nft cannot tell apart per socket.
 *   vif_bind4 / vif_bind6 (cgroup/bind4|6): binding a vif's address is refused (the kernel
 *     fails bind() with EPERM) unless the socket carries the owner's mark, so no other uid
 *     can claim the vif's address/port pairs first. IPv4-mapped IPv6 addresses count as IPv4.
 *
 * Socket marks come from sock_create.bpf.c (slice members cannot change them: SO_MARK needs
 * CAP_NET_ADMIN or CAP_NET_RAW). The programs run for every netns below the cgroup, but the
 * maps describe only netd's: ifindexes and addresses elsewhere are left alone. That takes
 * bpf_get_netns_cookie() in cgroup_skb programs, which only recent kernels offer (6.18 here;
 * older ones refuse to load the object). */
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "netd_maps.h"
#include "vif_maps.h"

#define AF_INET 2
#define AF_INET6 10

/* Set by netd before load. mark_mask: the skb->mark bits that hold the slice id.
 * netns_cookie: the netns the maps describe (netd's; where it makes the vifs). */
const volatile __u32 mark_mask = 0;
const volatile __u64 netns_cookie = 0;

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, NETD_VIF_ADDR_MAX_ENTRIES);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct netd_vif_addr_key);
  __type(value, netd_mark_value_t);
} vif_addrs SEC(".maps");

SEC("cgroup_skb/ingress")
int vif_ingress(struct __sk_buff *skb) {
  netd_ifindex_key_t ifindex = skb->ingress_ifindex;
  netd_mark_value_t *owner = bpf_map_lookup_elem(&vif_marks, &ifindex);
  if (!owner) return 1; /* not from a vif: not ours to judge */
  if (bpf_get_netns_cookie(skb) != netns_cookie) return 1; /* same ifindex, other netns */

  /* The kernel runs this hook only for full sockets: a SYN and the handshake's final ACK are
   * judged at the listener (not the request sock), later segments at the accepted child,
   * which inherits the listener's mark; segments for a TIME_WAIT sock never get here (the
   * kernel may answer them, but no data reaches a process). So a missing full socket is
   * unexpected: fail closed, a vif's traffic must never reach the wrong socket. */
  struct bpf_sock *sk = skb->sk;
  if (!sk) return 0;
  sk = bpf_sk_fullsock(sk);
  if (!sk) return 0;
  return (sk->mark & mark_mask) == *owner;
}

static __always_inline int may_bind(struct bpf_sock_addr *ctx, const struct netd_vif_addr_key *key) {
  netd_mark_value_t *owner = bpf_map_lookup_elem(&vif_addrs, key);
  if (!owner) return 1; /* wildcard or any address that is not a vif's */
  if (bpf_get_netns_cookie(ctx) != netns_cookie) return 1;
  struct bpf_sock *sk = ctx->sk;
  if (!sk) return 0;
  return (sk->mark & mark_mask) == *owner;
}

SEC("cgroup/bind4")
int vif_bind4(struct bpf_sock_addr *ctx) {
  struct netd_vif_addr_key key = {.family = AF_INET};
  __u32 ip = ctx->user_ip4; /* network byte order, like the key */
  __builtin_memcpy(key.addr, &ip, sizeof ip);
  return may_bind(ctx, &key);
}

SEC("cgroup/bind6")
int vif_bind6(struct bpf_sock_addr *ctx) {
  /* user_ip6 must be read as four 32-bit words. */
  __u32 w0 = ctx->user_ip6[0], w1 = ctx->user_ip6[1], w2 = ctx->user_ip6[2], w3 = ctx->user_ip6[3];
  struct netd_vif_addr_key key = {};
  if (w0 == 0 && w1 == 0 && w2 == bpf_htonl(0xffff)) {
    /* ::ffff:a.b.c.d on a dual-stack socket binds the IPv4 address. */
    key.family = AF_INET;
    __builtin_memcpy(key.addr, &w3, sizeof w3);
  } else {
    __u32 words[4] = {w0, w1, w2, w3};
    key.family = AF_INET6;
    __builtin_memcpy(key.addr, words, sizeof words);
  }
  return may_bind(ctx, &key);
}

char LICENSE[] SEC("license") = "GPL";
