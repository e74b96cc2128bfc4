/* A C program using netd's C API, run as a slice member by protocol_test:
 *   c_client_probe add DST GW DEV  → netd_route_add
 *   c_client_probe del DST GW DEV  → netd_route_del
 * Prints "ok" or "error <errno> <reason>" and exits 0 / 2. */
#include <stdio.h>
#include <string.h>

#include "lib/client/netd_client.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s add|del DST GW DEV\n", argv[0]);
    return 1;
  }
  netd_client* c = netd_open(NULL);
  if (c == NULL) {
    perror("netd_open");
    return 2;
  }
  int r = strcmp(argv[1], "add") == 0 ? netd_route_add(c, argv[2], argv[3], argv[4], NULL)
                                      : netd_route_del(c, argv[2], argv[3], argv[4]);
  if (r < 0) printf("error %d %s\n", -r, netd_last_error(c));
  else printf("ok\n");
  netd_close(c);
  return r < 0 ? 2 : 0;
}
