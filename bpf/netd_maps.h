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


/* Reserved ports (port_reserve.bpf.c), pinned under <bpffs>/ports/, for the netns whose cookie
 * the programs are loaded with. reserved_ports: key = a port of some slice's bind_ports (__u32,
 * host byte order, 1..65535), value = that slice's mark (__u32). The policy keeps each port in
 * at most one slice. */
#define NETD_RESERVED_PORT_MAX_ENTRIES 65536

typedef __u32 netd_port_number_t;

/* Isolated raw/packet sockets (raw_filter.bpf.c, flow_record.bpf.c), pinned under
 * <bpffs>/raw/. Addresses and ports are in network byte order; an IPv4 address fills
 * addr[0..3] and the rest is zero; unused fields are zero, so a key's bytes are its identity
 * on both sides (no padding: every field is spelled out, sizes are checked in C++). */

/* flows: LRU hash, 5-tuple as the local host sent it (saddr = local) → sending slice's mark
 * (mark & mark_mask). Filled by flow_record's cgroup_skb/egress from marked packets; read by
 * slice_filter (reversed for received packets). LRU: a busy host forgets its oldest flows,
 * never refuses a new one. For ICMP/ICMPv6 echo both ports hold the echo id (so reversing
 * keeps it); other protocols, IPv6 extension headers and non-first fragments have ports 0. */
#define NETD_FLOW_MAX_ENTRIES 65536

struct netd_flow_key {
  __u8 family; /* AF_INET (2) or AF_INET6 (10) */
  __u8 proto;  /* IPPROTO_* (for IPv6 the first next header) */
  __u16 zero;  /* always 0: keeps the addresses 4-byte aligned */
  __u16 sport;
  __u16 dport;
  __u8 saddr[16];
  __u8 daddr[16];
} __attribute__((aligned(4))); /* 40 bytes */

/* ports: hash, an explicitly bound TCP/UDP port (post_bind4/6) → the binding socket's slice
 * mark. A wildcard bind (0.0.0.0, ::) has family 0 and a zero address, so one entry covers
 * both families of a dual-stack socket; an IPv4-mapped IPv6 address is stored as IPv4. */
#define NETD_PORT_MAX_ENTRIES 65536

struct netd_port_key {
  __u8 family; /* AF_INET, AF_INET6, or 0 for a wildcard address */
  __u8 proto;  /* IPPROTO_TCP or IPPROTO_UDP */
  __u16 port;
  __u8 addr[16];
} __attribute__((aligned(4))); /* 20 bytes */

/* port_owners: socket local storage (BPF_MAP_TYPE_SK_STORAGE) of marked sockets that bind:
 * cgroup/bind4|6 note the socket's mark (post_bind cannot read it), post_bind4|6 the port
 * key they entered, sock_release deletes that key again if it still holds this mark. */
struct netd_port_owner {
  struct netd_port_key key;
  __u32 mark;  /* mark & mark_mask at bind() */
  __u32 bound; /* 1 once post_bind entered key into ports */
};

/* capture_ifaces: hash, ifindex (__u32) → 1: the devices a capture socket may see (uplinks). */
#define NETD_CAPTURE_MAX_ENTRIES 256

/* slice_epochs: key = slice mark (__u32), value = the epoch of the mark's current owner
 * (__u32). A slice filter is loaded for one epoch and keeps nothing once the entry differs
 * or is gone: netd moves it on when the mark's slice is removed or its id given to another
 * slice, so sockets handed out earlier stop seeing the mark's traffic (fds cannot be taken
 * back). One entry per slice that ever got a socket. */
#define NETD_SLICE_EPOCH_MAX_ENTRIES 4096

#endif /* NETD_BPF_NETD_MAPS_H */
