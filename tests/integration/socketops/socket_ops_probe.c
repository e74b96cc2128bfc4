/* A C client of netd_setsockopt and netd_bind, as a member's program would use them. Prints one
 * JSON line:
 *   {"rc": <netd_setsockopt's result>, "now": <getsockopt of what the option changes>, "error": "..."}
 *   {"rc": <netd_bind's result>, "port": <getsockname's port after>, "mark": <SO_MARK after>,
 *    "direct": <errno of the program's own bind() of the same, 0 if it worked, -1 not tried>,
 *    "accepted": <1 if a connection to it was accepted, -1 not tried>, "error": "..."}
 *
 * usage: socket_ops_probe OPTION VALUE [--pipe] [--made-by UID --as UID]
 *        socket_ops_probe bind 4|6 tcp|udp|raw ADDRESS PORT [--direct] [--accept] [--made-by UID --as UID]
 *   OPTION  SO_RCVBUFFORCE | SO_SNDBUFFORCE | SO_PRIORITY | SO_RCVBUF (not offered)
 *   --pipe  pass a pipe instead of a socket
 *   --made-by U --as V  (run as root) create the socket with fsuid U, then become uid V
 *   --direct  first try the same bind() without netd, on a socket of its own
 *   --accept  after netd's bind: listen, connect to it, accept */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/client/netd_client.h"

static int option_of(const char* name, int* read_back) {
  if (strcmp(name, "SO_RCVBUFFORCE") == 0) return *read_back = SO_RCVBUF, SO_RCVBUFFORCE;
  if (strcmp(name, "SO_SNDBUFFORCE") == 0) return *read_back = SO_SNDBUF, SO_SNDBUFFORCE;
  if (strcmp(name, "SO_PRIORITY") == 0) return *read_back = SO_PRIORITY, SO_PRIORITY;
  if (strcmp(name, "SO_RCVBUF") == 0) return *read_back = SO_RCVBUF, SO_RCVBUF;
  fprintf(stderr, "unknown option %s\n", name);
  exit(2);
}

static void print_error(netd_client* client) {
  printf("\"error\": \"");
  for (const char* p = netd_last_error(client); *p; ++p) putchar(*p == '"' || *p == '\\' ? '\'' : *p);
  printf("\"}\n");
}

static void become(long as) {
  if (as >= 0 && (setresgid((gid_t)as, (gid_t)as, (gid_t)as) < 0 || setresuid((uid_t)as, (uid_t)as, (uid_t)as) < 0)) {
    perror("setresuid");
    exit(2);
  }
}

/* socket_ops_probe bind ...: see the top. */
static int bind_main(int argc, char** argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: socket_ops_probe bind 4|6 tcp|udp|raw ADDRESS PORT [--direct] [--accept] [--made-by UID --as UID]\n");
    return 2;
  }
  int family = strcmp(argv[2], "6") == 0 ? AF_INET6 : AF_INET;
  int type = strcmp(argv[3], "tcp") == 0 ? SOCK_STREAM : strcmp(argv[3], "udp") == 0 ? SOCK_DGRAM : SOCK_RAW;
  int protocol = type == SOCK_RAW ? IPPROTO_UDP : 0;
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len;
  int port = atoi(argv[5]);
  if (family == AF_INET) {
    struct sockaddr_in* sin = (struct sockaddr_in*)&ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, argv[4], &sin->sin_addr) != 1) return fprintf(stderr, "bad address\n"), 2;
    len = sizeof *sin;
  } else {
    struct sockaddr_in6* sin6 = (struct sockaddr_in6*)&ss;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, argv[4], &sin6->sin6_addr) != 1) return fprintf(stderr, "bad address\n"), 2;
    len = sizeof *sin6;
  }
  int direct = 0, accept_it = 0;
  long made_by = -1, as = -1;
  for (int i = 6; i < argc; ++i) {
    if (strcmp(argv[i], "--direct") == 0) direct = 1;
    else if (strcmp(argv[i], "--accept") == 0) accept_it = 1;
    else if (strcmp(argv[i], "--made-by") == 0 && i + 1 < argc) made_by = atol(argv[++i]);
    else if (strcmp(argv[i], "--as") == 0 && i + 1 < argc) as = atol(argv[++i]);
  }
  if (made_by >= 0) setfsuid((uid_t)made_by);
  int fd = socket(family, type, protocol);
  if (fd < 0) return perror("socket"), 2;
  become(as);
  int direct_errno = -1;
  if (direct) {
    int own = socket(family, type, protocol);
    if (own < 0) return perror("socket"), 2;
    direct_errno = bind(own, (struct sockaddr*)&ss, len) == 0 ? 0 : errno;
    close(own);
  }
  netd_client* client = netd_open(NULL);
  if (client == NULL) return perror("netd_open"), 2;
  int rc = netd_bind(client, fd, (struct sockaddr*)&ss, len);
  struct sockaddr_storage now;
  socklen_t now_len = sizeof now;
  int bound_port = -1;
  if (getsockname(fd, (struct sockaddr*)&now, &now_len) == 0)
    bound_port = ntohs(family == AF_INET ? ((struct sockaddr_in*)&now)->sin_port : ((struct sockaddr_in6*)&now)->sin6_port);
  unsigned mark = 0;
  socklen_t mark_len = sizeof mark;
  getsockopt(fd, SOL_SOCKET, SO_MARK, &mark, &mark_len);
  int accepted = -1;
  if (accept_it && rc == 0) {
    accepted = 0;
    /* To the address it was bound to, loopback for the wildcard. */
    if (family == AF_INET && ((struct sockaddr_in*)&ss)->sin_addr.s_addr == htonl(INADDR_ANY))
      ((struct sockaddr_in*)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6*)&ss)->sin6_addr))
      ((struct sockaddr_in6*)&ss)->sin6_addr = in6addr_loopback;
    int peer = socket(family, SOCK_STREAM, 0);
    if (listen(fd, 1) == 0 && connect(peer, (struct sockaddr*)&ss, len) == 0) {
      int conn = accept(fd, NULL, NULL);
      accepted = conn >= 0;
      if (conn >= 0) close(conn);
    }
    close(peer);
  }
  printf("{\"rc\": %d, \"port\": %d, \"mark\": %u, \"direct\": %d, \"accepted\": %d, ", rc, bound_port, mark,
         direct_errno, accepted);
  print_error(client);
  netd_close(client);
  return 0;
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "bind") == 0) return bind_main(argc, argv);
  if (argc < 3) {
    fprintf(stderr, "usage: socket_ops_probe OPTION VALUE [--pipe] [--made-by UID --as UID]\n");
    return 2;
  }
  int read_back = 0;
  int option = option_of(argv[1], &read_back);
  int value = atoi(argv[2]);
  int use_pipe = 0;
  long made_by = -1, as = -1;
  for (int i = 3; i < argc; ++i) {
    if (strcmp(argv[i], "--pipe") == 0) use_pipe = 1;
    else if (strcmp(argv[i], "--made-by") == 0 && i + 1 < argc) made_by = atol(argv[++i]);
    else if (strcmp(argv[i], "--as") == 0 && i + 1 < argc) as = atol(argv[++i]);
  }
  int fd;
  if (use_pipe) {
    int p[2];
    if (pipe(p) < 0) return perror("pipe"), 2;
    fd = p[0];
  } else {
    if (made_by >= 0) setfsuid((uid_t)made_by);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) return perror("socket"), 2;
  }
  become(as);
  netd_client* client = netd_open(NULL);
  if (client == NULL) return perror("netd_open"), 2;
  int rc = netd_setsockopt(client, fd, option, value);
  int now = -1;
  socklen_t len = sizeof now;
  if (!use_pipe) getsockopt(fd, SOL_SOCKET, read_back, &now, &len);
  printf("{\"rc\": %d, \"now\": %d, ", rc, now);
  print_error(client);
  netd_close(client);
  return 0;
}
