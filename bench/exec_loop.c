/* exec_loop: the program exec_bench runs both under `sliceip exec` and directly, so the two
 * sides are the same process doing the same calls (bench/README.md, exec_bench).
 *
 *   exec_loop socket WARMUP COUNT UNTIL_NS      socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)) + close
 *   exec_loop api WARMUP COUNT UNTIL_NS         netd_packet_socket(client, htons(ETH_P_ALL), NULL) + close
 *   exec_loop mix WARMUP COUNT UNTIL_NS         socket(AF_INET, SOCK_STREAM) + close + getpid
 *   exec_loop mix-filter WARMUP COUNT UNTIL_NS  the same under a seccomp filter of its own with
 *                                               sliceip exec's rules (no supervisor): the
 *                                               kernel's share of what sliceip exec costs them
 *   exec_loop mix-floor WARMUP COUNT UNTIL_NS   the same under the smallest filter that reads
 *                                               socket()'s arguments (hand-written, x86_64 and
 *                                               aarch64 only): the least any such filter costs
 *
 * WARMUP untimed calls first (under sliceip exec the first trapped socket() pays the
 * supervisor's set-up; the api side connects to netd before them), then timed calls until COUNT
 * are done or CLOCK_MONOTONIC passes UNTIL_NS (0: no deadline), at least one. socket/api print
 * one line per call, `SOCKET_NS CLOSE_NS`; the mix modes print `ITERATIONS NS` for the whole timed
 * loop.
 * Exit 0, or 1 with the failing call on stderr (2: usage). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib/client/netd_client.h"

/* The deadline is read once per this many mix iterations (a clock read per iteration would be a
 * measurable share of an iteration of a few µs). */
#define MIX_CHECK_EVERY 64

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int usage(void) {
  fputs("usage: exec_loop {socket|api|mix|mix-filter|mix-floor} WARMUP COUNT UNTIL_NS\n", stderr);
  return 2;
}

static int parse_count(const char* s, long long min, long long* out) {
  char* end = NULL;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno != 0 || *end != '\0' || v < min) return 0;
  *out = v;
  return 1;
}

/* One packet socket, by the program's own socket() (trapped under sliceip exec) or from netd
 * through the C API: the fd, or -1 after printing why. */
static int packet_socket(netd_client* client) {
  if (client == NULL) {
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd < 0) fprintf(stderr, "exec_loop: socket(AF_PACKET, SOCK_RAW, ETH_P_ALL): %s\n", strerror(errno));
    return fd;
  }
  int fd = netd_packet_socket(client, htons(ETH_P_ALL), NULL);
  if (fd < 0) fprintf(stderr, "exec_loop: netd_packet_socket: %s (%s)\n", strerror(-fd), netd_last_error(client));
  return fd < 0 ? -1 : fd;
}

static int run_sockets(netd_client* client, long long warmup, long long count, int64_t until) {
  for (long long i = 0; i < warmup; ++i) {
    int fd = packet_socket(client);
    if (fd < 0) return 1;
    close(fd);
  }
  for (long long i = 0; i < count && (i == 0 || until == 0 || now_ns() < until); ++i) {
    int64_t t0 = now_ns();
    int fd = packet_socket(client);
    int64_t t1 = now_ns();
    if (fd < 0) return 1;
    close(fd);
    int64_t t2 = now_ns();
    printf("%lld %lld\n", (long long)(t1 - t0), (long long)(t2 - t1));
  }
  return 0;
}

/* Calls the filter lets through in the kernel: socket() is checked against the filter's rules
 * (its arguments decide), close() and getpid() are not trapped at all. */
static int mix_once(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fprintf(stderr, "exec_loop: socket(AF_INET, SOCK_STREAM): %s\n", strerror(errno));
    return 0;
  }
  close(fd);
  (void)syscall(SYS_getpid); /* the system call itself, whatever the libc caches */
  return 1;
}

/* The rules of sliceip exec's filter (tools/sliceip/exec/seccomp_program.cc: socket() of these
 * families with SOCK_RAW trapped, everything else allowed), with ERRNO in place of NOTIFY: no
 * supervisor listens here, and the mix never makes a raw socket, so only the filter's run on
 * each call is measured. */
static int install_filter(void) {
  static const int families[] = {AF_INET, AF_INET6, AF_PACKET};
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  int rc = ctx == NULL ? -ENOMEM : seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
  for (size_t i = 0; rc == 0 && i < sizeof families / sizeof families[0]; ++i)
    rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 2, SCMP_A0_32(SCMP_CMP_EQ, families[i]),
                          SCMP_A1_32(SCMP_CMP_MASKED_EQ, 0xf, SOCK_RAW));
  if (rc == 0) rc = seccomp_load(ctx); /* sets no_new_privs itself (SCMP_FLTATR_CTL_NNP) */
  if (ctx != NULL) seccomp_release(ctx);
  if (rc != 0) fprintf(stderr, "exec_loop: installing the filter: %s\n", strerror(-rc));
  return rc == 0;
}

#if defined(__x86_64__)
#define FLOOR_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define FLOOR_ARCH AUDIT_ARCH_AARCH64
#endif

/* The least a filter that decides socket() by its arguments can be: on socket() it loads one
 * argument (the low half of args[1], the type; both arches are little-endian) and allows.
 * Everything else, and every other arch, is allowed by loads of arch and nr alone, so the
 * kernel's per-syscall-number cache (seccomp_cache_prepare) still lets close and getpid through
 * without running it; the argument load is what makes socket() run it, as any filter that reads
 * socket()'s arguments must. */
static int install_floor_filter(void) {
#ifdef FLOOR_ARCH
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FLOOR_ARCH, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 1),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    fprintf(stderr, "exec_loop: prctl(PR_SET_NO_NEW_PRIVS): %s\n", strerror(errno));
    return 0;
  }
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    fprintf(stderr, "exec_loop: seccomp(SECCOMP_SET_MODE_FILTER): %s\n", strerror(errno));
    return 0;
  }
  return 1;
#else
  fputs("exec_loop: mix-floor: the filter is written for x86_64 and aarch64 only\n", stderr);
  return 0;
#endif
}

static int run_mix(long long warmup, long long count, int64_t until) {
  for (long long i = 0; i < warmup; ++i)
    if (!mix_once()) return 1;
  long long n = 0;
  int64_t t0 = now_ns(), t1 = t0;
  while (n < count) {
    if (!mix_once()) return 1;
    if (++n % MIX_CHECK_EVERY == 0 && until != 0 && (t1 = now_ns()) >= until) break;
  }
  t1 = now_ns();
  printf("%lld %lld\n", n, (long long)(t1 - t0));
  return 0;
}

int main(int argc, char** argv) {
  long long warmup, count, until;
  if (argc != 5 || !parse_count(argv[2], 0, &warmup) || !parse_count(argv[3], 1, &count) ||
      !parse_count(argv[4], 0, &until))
    return usage();
  int rc;
  if (strcmp(argv[1], "socket") == 0) {
    rc = run_sockets(NULL, warmup, count, until);
  } else if (strcmp(argv[1], "api") == 0) {
    netd_client* client = netd_open(NULL);
    if (client == NULL) {
      fprintf(stderr, "exec_loop: netd_open: %s\n", strerror(errno));
      return 1;
    }
    rc = run_sockets(client, warmup, count, until);
    netd_close(client);
  } else if (strcmp(argv[1], "mix") == 0) {
    rc = run_mix(warmup, count, until);
  } else if (strcmp(argv[1], "mix-filter") == 0) {
    if (!install_filter()) return 1;
    rc = run_mix(warmup, count, until);
  } else if (strcmp(argv[1], "mix-floor") == 0) {
    if (!install_floor_filter()) return 1;
    rc = run_mix(warmup, count, until);
  } else {
    return usage();
  }
  if (fflush(stdout) != 0) return 1;
  return rc;
}
