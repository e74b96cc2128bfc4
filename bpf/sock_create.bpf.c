// SPDX-License-Identifier: GPL-2.0
/* cgroup/sock_create: give every socket a slice member creates the slice's mark, from
 * creation, so policy routing picks the slice table on the very first route lookup and the
 * member cannot create an unmarked socket. Runs for TCP, UDP, ping, raw, IPv4 and IPv6 sockets
 * in every netns. Never refuses a socket. */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

#include "netd_maps.h"

/* Set by netd before load: the skb->mark bits that belong to netd. Bits outside it belong to
 * other mark users and are preserved. */
const volatile __u32 mark_mask = 0;

/* BPF_F_NO_PREALLOC: a machine has a few slices, not 65536; memory follows the entries. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, NETD_MARK_MAP_MAX_ENTRIES);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, netd_mark_key_t);
  __type(value, netd_mark_value_t);
} uid_marks SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, NETD_MARK_MAP_MAX_ENTRIES);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, netd_mark_key_t);
  __type(value, netd_mark_value_t);
} gid_marks SEC(".maps");

SEC("cgroup/sock_create")
int sock_create(struct bpf_sock *ctx) {
  __u64 uid_gid = bpf_get_current_uid_gid();
  /* The real ids (cred->uid, cred->gid): a setuid binary run by a member stays tagged. */
  __u32 uid = (__u32)uid_gid;
  __u32 gid = (__u32)(uid_gid >> 32);

  netd_mark_value_t *mark = bpf_map_lookup_elem(&uid_marks, &uid);
  if (!mark) mark = bpf_map_lookup_elem(&gid_marks, &gid);
  if (mark) ctx->mark = (ctx->mark & ~mark_mask) | (*mark & mark_mask);
  return 1; /* allow */
}

char LICENSE[] SEC("license") = "GPL";
