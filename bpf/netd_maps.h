/* Map layouts shared by the BPF programs and netd (C and C++).
 *
 * Only fixed-width types: the BPF side gets __u32 from vmlinux.h, user space from
 * <linux/types.h> (the two must not be mixed in one translation unit). */
#ifndef NETD_BPF_NETD_MAPS_H
#define NETD_BPF_NETD_MAPS_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* uid_marks: key = real uid (__u32), value = slice mark (__u32).
 * gid_marks: key = real primary gid (__u32), value = slice mark (__u32).
 * A uid entry wins over a gid entry. Only the bits of the program's mark_mask are applied. */
#define NETD_MARK_MAP_MAX_ENTRIES 65536

typedef __u32 netd_mark_key_t;
typedef __u32 netd_mark_value_t;

/* Owner-only delivery on vifs (vif_guard.bpf.c), in the netns whose cookie the program is
 * loaded with (ifindexes and addresses only mean something within one netns).
 * vif_marks: key = ifindex of a vif (__u32), value = owner slice's mark (__u32).
 * vif_addrs: key = an address of a vif, value = owner slice's mark (__u32).
 * A machine has tens of vifs, each with a few addresses (IPv4, IPv6, link-local); the maps
 * are not preallocated, so the bounds only cap a runaway caller. */
#define NETD_VIF_MAX_ENTRIES 4096
#define NETD_VIF_ADDR_MAX_ENTRIES 16384

typedef __u32 netd_ifindex_key_t;

/* family is AF_INET (2) or AF_INET6 (10); an IPv4 address fills addr[0..3] in network byte
 * order and the rest is zero. An IPv4-mapped IPv6 address is always stored as IPv4. 20
 * bytes, no padding, so the key's bytes are its identity on both sides. */
struct netd_vif_addr_key {
  __u32 family;
  __u8 addr[16];
};

#endif /* NETD_BPF_NETD_MAPS_H */
