/* A C client of netd_setsockopt, as a member's program would use it. Prints one JSON line:
 *   {"rc": <netd_setsockopt's result>, "now": <getsockopt of what the option changes>, "error": "..."}
 *
 * usage: socket_ops_probe OPTION VALUE [--pipe] [--made-by UID --as UID]
 *   OPTION  SO_RCVBUFFORCE | SO_SNDBUFFORCE | SO_PRIORITY | SO_RCVBUF (not offered)
 *   --pipe  pass a pipe instead of a socket
 *   --made-by U --as V  (run as root) create the socket with fsuid U, then become uid V */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
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

int main(int argc, char** argv) {
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
  if (as >= 0 && (setresgid((gid_t)as, (gid_t)as, (gid_t)as) < 0 || setresuid((uid_t)as, (uid_t)as, (uid_t)as) < 0))
    return perror("setresuid"), 2;
  netd_client* client = netd_open(NULL);
  if (client == NULL) return perror("netd_open"), 2;
  int rc = netd_setsockopt(client, fd, option, value);
  int now = -1;
  socklen_t len = sizeof now;
  if (!use_pipe) getsockopt(fd, SOL_SOCKET, read_back, &now, &len);
  printf("{\"rc\": %d, \"now\": %d, \"error\": \"", rc, now);
  for (const char* p = netd_last_error(client); *p; ++p) putchar(*p == '"' || *p == '\\' ? '\'' : *p);
  printf("\"}\n");
  netd_close(client);
  return 0;
}
