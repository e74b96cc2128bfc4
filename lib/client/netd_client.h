/* The C API of netd's client library. Every function returns 0 (or an fd) on success and
 * -errno on failure; netd_last_error() then says why in words. */
#ifndef NETD_CLIENT_H
#define NETD_CLIENT_H

#include <stddef.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct netd_client netd_client;

/* Connects to netd. path NULL: $NETD_SOCKET, else /run/netd/netd.sock. NULL on failure
 * (errno set). */
netd_client* netd_open(const char* path);
void netd_close(netd_client* client);

/* The reason of the last failed call on this client ("" if none). Valid until the next call. */
const char* netd_last_error(const netd_client* client);

/* A raw Varlink call: params_json is a JSON object (NULL: {}). On success *reply_json is a
 * malloc'd JSON object the caller frees. Up to 16 fds travel each way; *n_fds_out gets how many
 * came back (their ownership passes to the caller). */
int netd_call(netd_client* client, const char* method, const char* params_json, char** reply_json,
              const int* fds_in, int n_fds_in, int* fds_out, int* n_fds_out);

/* Routes into the caller's slice table. dst "ADDR/LEN"; gateway, dev, src may be NULL. */
int netd_route_add(netd_client* client, const char* dst, const char* gateway, const char* dev,
                   const char* src);
int netd_route_del(netd_client* client, const char* dst, const char* gateway, const char* dev);

/* TUN/TAP devices (vifs) of the caller's slice, named tun<id>-<n> / tap<id>-<n>. */
#define NETD_VIF_UP 0x1          /* bring the device up */
#define NETD_VIF_PERSIST 0x2     /* the device outlives its last fd (until netd_vif_del) */
#define NETD_VIF_MULTI_QUEUE 0x4 /* IFF_MULTI_QUEUE: netd_vif_attach gives more queues */
/* The packet format of the fd (the device's; by default IFF_NO_PI: bare packets or frames): */
#define NETD_VIF_PACKET_INFO 0x8 /* each packet behind the 4-byte packet information header */
#define NETD_VIF_VNET_HDR 0x10   /* IFF_VNET_HDR: each packet behind a virtio-net header */

/* Creates a device: kind "tun" or "tap"; addr "ADDR/LEN" inside the slice's netblock or NULL;
 * peer (a point-to-point peer of addr) or NULL; flags from NETD_VIF_*. Returns the device fd
 * (O_RDWR, close-on-exec, IFF_NO_PI unless NETD_VIF_PACKET_INFO) or -errno. Without
 * NETD_VIF_PERSIST the device vanishes when the last fd is closed. name_out (NULL: not wanted)
 * gets the device name; it must hold at least 16 bytes (IFNAMSIZ). */
int netd_vif_add(netd_client* client, const char* kind, const char* addr, const char* peer,
                 int flags, char* name_out, size_t name_len);
/* Another fd (one more queue of a multi-queue device) of one of the slice's devices, without
 * the packet information header. */
int netd_vif_attach(netd_client* client, const char* name);
/* The same in the format flags asks (NETD_VIF_PACKET_INFO, NETD_VIF_VNET_HDR; 0 as
 * netd_vif_attach): it becomes the device's, except that a queue joining the other queues of a
 * multi-queue device must ask for theirs (-EINVAL otherwise). */
int netd_vif_attach_flags(netd_client* client, const char* name, int flags);
/* Deletes one of the slice's devices, also a persistent one and also while fds are open. */
int netd_vif_del(netd_client* client, const char* name);

/* Raw and packet sockets of the caller's slice (policy `raw`), created by netd: marked, fitted with
 * a locked receive filter passing only the slice's own packets, send side fenced. Each returns the
 * socket (close-on-exec) or -errno; netd_last_error() says why. */
/* socket(domain, SOCK_RAW, protocol): domain AF_INET/AF_INET6; protocol IPPROTO_ICMP (AF_INET),
 * IPPROTO_ICMPV6 (AF_INET6), IPPROTO_UDP or IPPROTO_TCP. -EAFNOSUPPORT / -EPROTONOSUPPORT for a
 * domain or protocol number outside those ranges; -EPERM for a kind the policy does not grant and
 * for IPPROTO_RAW. */
int netd_raw_socket(netd_client* client, int domain, int protocol);
/* socket(AF_PACKET, SOCK_RAW, protocol): protocol as given to socket(2), in network byte order
 * (htons(ETH_P_ALL)); 0 receives nothing until bind() names a protocol, as in socket(2). ifname
 * NULL: all devices, else bound to that device. */
int netd_packet_socket(netd_client* client, int protocol, const char* ifname);
/* Monitors (policy capture_all) only: everything received on one uplink. */
int netd_capture_socket(netd_client* client, const char* ifname);
/* Monitors only: a NETLINK_NETFILTER socket bound to the slice's NFLOG group (*group_out, if not
 * NULL, gets its number); each message's NFULA_MARK attributes the packet to a slice. */
int netd_flowlog_socket(netd_client* client, int* group_out);

/* Socket options a slice's member may not set itself, set by netd on the caller's own socket fd
 * (which stays the caller's): option SO_RCVBUFFORCE or SO_SNDBUFFORCE (bytes, up to the slice's
 * max_sockbuf) or SO_PRIORITY (up to its max_priority). Returns what getsockopt reads back
 * (SO_RCVBUF / SO_SNDBUF, twice the size asked for; SO_PRIORITY) or -errno: -ENOPROTOOPT for
 * another option, -EPERM above the ceiling or for a socket that is not the caller's. */
int netd_setsockopt(netd_client* client, int fd, int option, int value);

/* bind(fd, addr, len) done by netd on the caller's own socket fd, for a port in the slice's
 * bind_ports (its reserved ports below 1024 included), where the kernel's cgroup bind hook does
 * not let the socket bind it itself (e.g. a socket made outside the cgroup the hook is attached
 * at). fd: a TCP or UDP socket of AF_INET or AF_INET6 in netd's network namespace, not bound
 * yet; addr: the wildcard or an address of its family, not one of another slice's vifs.
 * Returns 0 or -errno: -EPERM for a port not in bind_ports or a socket that is not the
 * caller's, -EOPNOTSUPP for a socket that is not TCP or UDP, -EAFNOSUPPORT for another address
 * family, -EINVAL for an IPv6 scope id, the kernel's own (-EADDRINUSE, ...). */
int netd_bind(netd_client* client, int fd, const struct sockaddr* addr, socklen_t len);

#ifdef __cplusplus
}
#endif

#endif /* NETD_CLIENT_H */
