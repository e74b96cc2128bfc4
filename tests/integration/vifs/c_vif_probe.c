/* A C program using netd's C API for vifs, run as a slice member by vifs_more_test:
 *   c_vif_probe cycle tun|tap   netd_vif_add (persist) → "name NAME"; netd_vif_attach while the
 *                               add fd is still open (a single-queue device: refused) →
 *                               "busy ..."; the add fd closed, netd_vif_attach → "attached";
 *                               netd_vif_del → "deleted"
 *   c_vif_probe attach NAME     netd_vif_attach → "attached"
 *   c_vif_probe del NAME        netd_vif_del → "deleted"
 * A failed call prints "error <step> <errno> <netd_last_error>" and exits 2; 0 otherwise.
 * Each fd returned is checked to be a TUN/TAP fd of the device named (TUNGETIFF). */
#include <errno.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/client/netd_client.h"

static int failed(netd_client* c, const char* step, int r) {
  printf("error %s %d %s\n", step, -r, netd_last_error(c));
  return 2;
}

/* 0 if fd is attached to the device `name`; prints why not otherwise. */
static int check_fd(int fd, const char* name) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  if (ioctl(fd, TUNGETIFF, &ifr) != 0) {
    printf("bad-fd TUNGETIFF %s\n", strerror(errno));
    return -1;
  }
  if (strcmp(ifr.ifr_name, name) != 0) {
    printf("bad-fd attached to %s, not %s\n", ifr.ifr_name, name);
    return -1;
  }
  return 0;
}

static int cycle(netd_client* c, const char* kind) {
  char name[IFNAMSIZ] = "";
  int fd = netd_vif_add(c, kind, NULL, NULL, NETD_VIF_PERSIST, name, sizeof name);
  if (fd < 0) return failed(c, "add", fd);
  printf("name %s\n", name);
  if (check_fd(fd, name) != 0) return 2;
  /* The add fd holds the only queue of a single-queue device. */
  int busy = netd_vif_attach(c, name);
  if (busy >= 0) {
    printf("attached-twice\n");
    close(busy);
  } else {
    printf("busy %d %s\n", -busy, netd_last_error(c));
  }
  close(fd);
  int again = netd_vif_attach(c, name);
  if (again < 0) return failed(c, "attach", again);
  if (check_fd(again, name) != 0) return 2;
  printf("attached\n");
  close(again);
  int r = netd_vif_del(c, name);
  if (r < 0) return failed(c, "del", r);
  printf("deleted\n");
  fflush(stdout);
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s cycle tun|tap | attach NAME | del NAME\n", argv[0]);
    return 1;
  }
  netd_client* c = netd_open(NULL);
  if (c == NULL) {
    perror("netd_open");
    return 2;
  }
  int rc = 0;
  if (strcmp(argv[1], "cycle") == 0) {
    rc = cycle(c, argv[2]);
  } else if (strcmp(argv[1], "attach") == 0) {
    int fd = netd_vif_attach(c, argv[2]);
    if (fd < 0) {
      rc = failed(c, "attach", fd);
    } else {
      rc = check_fd(fd, argv[2]) == 0 ? 0 : 2;
      if (rc == 0) printf("attached\n");
      close(fd);
    }
  } else if (strcmp(argv[1], "del") == 0) {
    int r = netd_vif_del(c, argv[2]);
    if (r < 0)
      rc = failed(c, "del", r);
    else
      printf("deleted\n");
  } else {
    fprintf(stderr, "unknown command %s\n", argv[1]);
    rc = 1;
  }
  netd_close(c);
  return rc;
}
