// SPDX-License-Identifier: GPL-2.0
/* Reserved ports (policy `bind_ports`): a port a slice lists is its own, privileged or not.
 *
 *   reserve_bind4 / reserve_bind6 (cgroup/bind4|6): binding a reserved port in netd's netns
 *     - with a socket carrying the owner slice's mark: allowed without CAP_NET_BIND_SERVICE
 *       (return 3: the kernel skips its own check for ports below ip_unprivileged_port_start),
 *       so `python3 -m http.server 80` works for a member as it is;
 *     - by root (real uid 0): left to the kernel's own rules (return 1);
 *     - by anyone else: refused, bind() fails with EACCES (bpf_set_retval), as the kernel's
 *       own refusal of a low port reads.
 *   Ports nobody reserved are untouched (return 1): the kernel decides as always.
 *
 * The hooks run for explicit binds of TCP, UDP and the other protocols with ports (raw and ping
 * sockets have binds of their own and never get here), not for the kernel's automatic choice
 * of a local port in connect()/listen(). Membership is the socket's mark, which the tagging
 * program (sock_create.bpf.c) gave it at creation, so gid members count too and a socket netd
 * binds for a member is the member's. The verdicts of the other bind programs (vif_guard,
 * flow_record) still apply: the kernel allows a bind only if every program does, and skips its
 * capability check if one of them returned 3. */
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "netd_maps.h"

#define EACCES 13

/* Set by netd before load. mark_mask: the skb->mark bits that hold the slice id.
 * netns_cookie: the netns the reservations are for (netd's): ports are per netns. */
const volatile __u32 mark_mask = 0;
const volatile __u64 netns_cookie = 0;

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, NETD_RESERVED_PORT_MAX_ENTRIES);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, netd_port_number_t);
  __type(value, netd_mark_value_t);
} reserved_ports SEC(".maps");

static __always_inline int reserve(struct bpf_sock_addr *ctx) {
  netd_port_number_t port = bpf_ntohs((__u16)ctx->user_port);
  if (port == 0) return 1; /* the kernel picks a free port: never a reserved one by design */
  netd_mark_value_t *owner = bpf_map_lookup_elem(&reserved_ports, &port);
  if (!owner) return 1;
  if (bpf_get_netns_cookie(ctx) != netns_cookie) return 1; /* another netns: its own ports */
  struct bpf_sock *sk = ctx->sk;
  if (sk && (sk->mark & mark_mask) == *owner) return 3;
  if ((__u32)bpf_get_current_uid_gid() == 0) return 1;
  bpf_set_retval(-EACCES);
  return 0;
}

SEC("cgroup/bind4")
int reserve_bind4(struct bpf_sock_addr *ctx) { return reserve(ctx); }

SEC("cgroup/bind6")
int reserve_bind6(struct bpf_sock_addr *ctx) { return reserve(ctx); }

char LICENSE[] SEC("license") = "GPL";
