/* exec_probe's modes for the robustness tests (exec_robustness_test.cc): programs that misbehave
 * under `sliceip exec` on purpose. Every loop is bounded by a count, never by time.
 *
 *   exec_probe chaos N     two threads each make N socket() calls (raw icmp, packet), closing what
 *     they get, while a third closes or dup2s random fds 3..31 8N times (the openers' fds among
 *     them); prints one summary line and exits 5 (a status the test tells from sliceip's own)
 *   exec_probe spin N      socket(AF_INET, SOCK_RAW, 1) + close forever; prints "started" (with
 *     its pid) once N calls were made, and goes on until killed
 *   exec_probe steps N     prints "ready"; for each line read on stdin, makes N raw icmp socket()
 *     calls (closing each) and prints a "step" line with the counts; exits 0 at end of input
 *   exec_probe threads T N T threads each make N raw icmp socket() calls, keeping the last 8 open:
 *     counts fds handed to two holders at once and marks unlike the first one seen
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "exec_probe_stress.h"

enum { kEthPAll = 0x0003, kLowFd = 3, kHighFd = 31, kWindow = 8, kMaxThreads = 64, kMaxFd = 65536 };

struct Tally {
  atomic_long ok, eperm, enobufs, other;
  atomic_int other_errno;
};

static void tally(struct Tally* t, int fd) {
  if (fd >= 0) atomic_fetch_add(&t->ok, 1);
  else if (errno == EPERM) atomic_fetch_add(&t->eperm, 1);
  else if (errno == ENOBUFS) atomic_fetch_add(&t->enobufs, 1);
  else {
    atomic_fetch_add(&t->other, 1);
    atomic_store(&t->other_errno, errno);
  }
}

static void print_tally(const char* event, long calls, struct Tally* t) {
  printf("{\"event\":\"%s\",\"calls\":%ld,\"ok\":%ld,\"eperm\":%ld,\"enobufs\":%ld,\"other\":%ld,\"other_errno\":%d,"
         "\"pid\":%d,\"ppid\":%d}\n",
         event, calls, atomic_load(&t->ok), atomic_load(&t->eperm), atomic_load(&t->enobufs),
         atomic_load(&t->other), atomic_load(&t->other_errno), (int)getpid(), (int)getppid());
}

/* chaos */

struct Opener {
  struct Tally* tally;
  long count;
  int packet;
};

static void* open_loop(void* arg) {
  struct Opener* o = arg;
  for (long i = 0; i < o->count; ++i) {
    int fd = o->packet ? socket(AF_PACKET, SOCK_RAW, (int)__builtin_bswap16(kEthPAll)) : socket(AF_INET, SOCK_RAW, 1);
    tally(o->tally, fd);
    if (fd >= 0) close(fd); /* perhaps no longer ours: the chaos thread may have closed or replaced it */
  }
  return NULL;
}

static void* chaos_loop(void* arg) {
  long iterations = *(long*)arg;
  unsigned state = 12345; /* fixed seed: the same sequence every run */
  for (long i = 0; i < iterations; ++i) {
    state = state * 1103515245u + 12345u;
    int fd = kLowFd + (int)((state >> 16) % (kHighFd - kLowFd + 1));
    if (state & 0x100) close(fd);
    else dup2(0, fd);
    sched_yield();
  }
  return NULL;
}

int chaos_mode(int argc, char** argv) {
  if (argc < 3) return 2;
  long count = atol(argv[2]), iterations = 8 * count;
  struct Tally t = {0};
  struct Opener raw = {&t, count, 0}, packet = {&t, count, 1};
  pthread_t threads[3];
  if (pthread_create(&threads[0], NULL, open_loop, &raw) != 0 ||
      pthread_create(&threads[1], NULL, open_loop, &packet) != 0 ||
      pthread_create(&threads[2], NULL, chaos_loop, &iterations) != 0)
    return 3;
  for (int i = 0; i < 3; ++i) pthread_join(threads[i], NULL);
  print_tally("chaos", 2 * count, &t);
  return 5;
}

/* spin */

int spin_mode(int argc, char** argv) {
  if (argc < 3) return 2;
  long announce = atol(argv[2]);
  struct Tally t = {0};
  for (long i = 1;; ++i) {
    int fd = socket(AF_INET, SOCK_RAW, 1);
    tally(&t, fd);
    if (fd >= 0) close(fd);
    if (i == announce) print_tally("started", i, &t);
  }
}

/* steps */

int steps_mode(int argc, char** argv) {
  if (argc < 3) return 2;
  long count = atol(argv[2]);
  printf("{\"event\":\"ready\",\"pid\":%d,\"ppid\":%d}\n", (int)getpid(), (int)getppid());
  char line[64];
  while (fgets(line, sizeof line, stdin)) {
    struct Tally t = {0};
    for (long i = 0; i < count; ++i) {
      int fd = socket(AF_INET, SOCK_RAW, 1);
      tally(&t, fd);
      if (fd >= 0) close(fd);
    }
    print_tally("step", count, &t);
  }
  return 0;
}

/* threads */

struct Shared {
  struct Tally tally;
  atomic_int holder[kMaxFd]; /* 0: free; else the holding thread's number + 1 */
  atomic_long twice, bad_mark, no_mark;
  atomic_uint first_mark;    /* 0 until a socket's mark was read */
};

struct Worker {
  struct Shared* shared;
  long count;
  int number;
};

static void release(struct Shared* s, int fd) {
  /* Cleared before the close: while this thread still holds fd, nobody else can get its number. */
  atomic_store(&s->holder[fd], 0);
  close(fd);
}

static void check_mark(struct Shared* s, int fd) {
  unsigned mark = 0, unset = 0;
  socklen_t len = sizeof mark;
  if (getsockopt(fd, SOL_SOCKET, SO_MARK, &mark, &len) != 0) {
    atomic_fetch_add(&s->no_mark, 1);
    return;
  }
  if (!atomic_compare_exchange_strong(&s->first_mark, &unset, mark) && unset != mark) atomic_fetch_add(&s->bad_mark, 1);
}

static void* worker_loop(void* arg) {
  struct Worker* w = arg;
  struct Shared* s = w->shared;
  int window[kWindow];
  for (int i = 0; i < kWindow; ++i) window[i] = -1;
  for (long i = 0; i < w->count; ++i) {
    int slot = (int)(i % kWindow);
    if (window[slot] >= 0) release(s, window[slot]);
    window[slot] = -1;
    int fd = socket(AF_INET, SOCK_RAW, 1);
    tally(&s->tally, fd);
    if (fd < 0) continue;
    if (fd >= kMaxFd) {
      close(fd);
      continue;
    }
    int free_slot = 0;
    if (!atomic_compare_exchange_strong(&s->holder[fd], &free_slot, w->number + 1)) {
      atomic_fetch_add(&s->twice, 1);
      continue; /* not ours to close */
    }
    check_mark(s, fd);
    window[slot] = fd;
  }
  for (int i = 0; i < kWindow; ++i)
    if (window[i] >= 0) release(s, window[i]);
  return NULL;
}

int threads_mode(int argc, char** argv) {
  if (argc < 4) return 2;
  int n = atoi(argv[2]);
  long count = atol(argv[3]);
  if (n < 1 || n > kMaxThreads) return 2;
  static struct Shared shared; /* too big for the stack */
  struct Worker workers[kMaxThreads];
  pthread_t threads[kMaxThreads];
  for (int i = 0; i < n; ++i) {
    workers[i] = (struct Worker){&shared, count, i};
    if (pthread_create(&threads[i], NULL, worker_loop, &workers[i]) != 0) return 3;
  }
  for (int i = 0; i < n; ++i) pthread_join(threads[i], NULL);
  print_tally("threads", (long)n * count, &shared.tally);
  printf("{\"event\":\"fds\",\"twice\":%ld,\"bad_mark\":%ld,\"no_mark\":%ld,\"mark\":%u}\n", atomic_load(&shared.twice),
         atomic_load(&shared.bad_mark), atomic_load(&shared.no_mark), atomic_load(&shared.first_mark));
  return 0;
}
