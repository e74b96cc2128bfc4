/* A program run under `sliceip exec` by the tests: it makes plain socket(2) calls, as any
 * unmodified tool does, and prints what it got as JSON lines on stdout.
 *
 *   exec_probe socket inet|inet6|packet raw|dgram|stream PROTO [cloexec] [nonblock] [hole] [count N]
 *     PROTO: an IP protocol number, or for packet an ethertype in host order (htons is applied).
 *     hole: open fds 3 4 5 (as dups of 0) and close the middle one first: the lowest free fd is
 *     not the next one. count N: call N times (closing each socket), print one summary line.
 *   exec_probe wait-signal      prints "ready", waits for TERM/INT/HUP, prints it, dies of it
 *   exec_probe fork-exec PATH ARGS...   forks; the child execs PATH; exits with its status
 *   exec_probe filter packet|udp   opens a socket (packet: AF_PACKET SOCK_RAW ETH_P_ALL, which only netd's
 *     answer can give; udp: the program's own), attaches a classic BPF filter, detaches it, prints
 *     both errnos and the socket's SO_LOCK_FILTER
 *   exec_probe buffer rcv|snd BYTES   setsockopt(SO_RCVBUFFORCE|SO_SNDBUFFORCE, BYTES) on its own UDP socket;
 *     prints the errno and what SO_RCVBUF|SO_SNDBUF reads afterwards
 *   exec_probe orphan-socket   forks and exits 0 at once; the child waits until the probe's parent
 *     (sliceip) has exited, then opens socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) and prints it
 *   exec_probe chaos|spin|steps|threads ...   misbehaving programs: see exec_probe_stress.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec_probe_stress.h"

static int domain_of(const char* word) {
  if (strcmp(word, "inet") == 0) return AF_INET;
  if (strcmp(word, "inet6") == 0) return AF_INET6;
  if (strcmp(word, "packet") == 0) return AF_PACKET;
  return -1;
}

static int type_of(const char* word) {
  if (strcmp(word, "raw") == 0) return SOCK_RAW;
  if (strcmp(word, "dgram") == 0) return SOCK_DGRAM;
  if (strcmp(word, "stream") == 0) return SOCK_STREAM;
  return -1;
}

static int print_socket(int fd) {
  if (fd < 0) {
    printf("{\"event\":\"socket\",\"fd\":-1,\"errno\":%d,\"ppid\":%d}\n", errno, (int)getppid());
    return 0;
  }
  unsigned mark = 0;
  socklen_t len = sizeof mark;
  if (getsockopt(fd, SOL_SOCKET, SO_MARK, &mark, &len) != 0) mark = 0;
  printf("{\"event\":\"socket\",\"fd\":%d,\"errno\":0,\"mark\":%u}\n", fd, mark);
  return 0;
}

static int orphan_socket_mode(void) {
  int supervisor = (int)syscall(SYS_pidfd_open, getppid(), 0);
  if (supervisor < 0) return 3;
  pid_t pid = fork();
  if (pid < 0) return 3;
  if (pid > 0) return 0;
  struct pollfd p = {supervisor, POLLIN, 0};
  while (poll(&p, 1, -1) < 0) {
  }
  return print_socket(socket(AF_INET, SOCK_RAW, 1));
}

static int socket_mode(int argc, char** argv) {
  if (argc < 5) return 2;
  int domain = domain_of(argv[2]), type = type_of(argv[3]), protocol = atoi(argv[4]);
  if (domain < 0 || type < 0) return 2;
  if (domain == AF_PACKET) protocol = htons((unsigned short)protocol);
  int hole = 0;
  long count = 1;
  for (int i = 5; i < argc; ++i) {
    if (strcmp(argv[i], "cloexec") == 0) type |= SOCK_CLOEXEC;
    else if (strcmp(argv[i], "nonblock") == 0) type |= SOCK_NONBLOCK;
    else if (strcmp(argv[i], "hole") == 0) hole = 1;
    else if (strcmp(argv[i], "count") == 0 && i + 1 < argc) count = atol(argv[++i]);
    else return 2;
  }
  int expected;
  if (hole) {
    int a = dup(0), b = dup(0), c = dup(0);
    (void)a;
    (void)c;
    close(b);
    expected = b;
  } else {
    expected = fcntl(0, F_DUPFD, 0);
    close(expected);
  }
  if (count > 1) {
    long ok = 0, eperm = 0, other = 0;
    int other_errno = 0;
    for (long i = 0; i < count; ++i) {
      int fd = socket(domain, type, protocol);
      if (fd >= 0) {
        ++ok;
        close(fd);
      } else if (errno == EPERM) {
        ++eperm;
      } else {
        ++other;
        other_errno = errno;
      }
    }
    printf("{\"event\":\"loop\",\"calls\":%ld,\"ok\":%ld,\"eperm\":%ld,\"other\":%ld,\"other_errno\":%d}\n", count,
           ok, eperm, other, other_errno);
    return 0;
  }
  int fd = socket(domain, type, protocol);
  if (fd < 0) {
    printf("{\"event\":\"socket\",\"fd\":-1,\"errno\":%d,\"ppid\":%d}\n", errno, (int)getppid());
    return 0;
  }
  int fd_flags = fcntl(fd, F_GETFD), fl_flags = fcntl(fd, F_GETFL);
  unsigned mark = 0;
  socklen_t len = sizeof mark;
  if (getsockopt(fd, SOL_SOCKET, SO_MARK, &mark, &len) != 0) mark = 0;
  int so_type = 0;
  len = sizeof so_type;
  getsockopt(fd, SOL_SOCKET, SO_TYPE, &so_type, &len);
  printf("{\"event\":\"socket\",\"fd\":%d,\"errno\":0,\"expected_fd\":%d,\"cloexec\":%s,\"nonblock\":%s,"
         "\"mark\":%u,\"type\":%d,\"ppid\":%d}\n",
         fd, expected, (fd_flags & FD_CLOEXEC) ? "true" : "false", (fl_flags & O_NONBLOCK) ? "true" : "false", mark,
         so_type, (int)getppid());
  return 0;
}

static int filter_mode(int argc, char** argv) {
  if (argc < 3) return 2;
  int fd = strcmp(argv[2], "packet") == 0 ? socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL))
           : strcmp(argv[2], "udp") == 0  ? socket(AF_INET, SOCK_DGRAM, 0)
                                          : -2;
  if (fd == -2) return 2;
  if (fd < 0) {
    printf("{\"event\":\"filter\",\"socket_errno\":%d}\n", errno);
    return 0;
  }
  struct sock_filter accept_all[] = {{BPF_RET | BPF_K, 0, 0, 0xffff}};
  struct sock_fprog program = {1, accept_all};
  int attach = setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) == 0 ? 0 : errno;
  int dummy = 0; /* the kernel wants an int, as libpcap passes */
  int detach = setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &dummy, sizeof dummy) == 0 ? 0 : errno;
  int locked = 0;
  socklen_t len = sizeof locked;
  getsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &locked, &len);
  printf("{\"event\":\"filter\",\"socket_errno\":0,\"attach_errno\":%d,\"detach_errno\":%d,\"locked\":%d}\n",
         attach, detach, locked);
  return 0;
}

static int buffer_mode(int argc, char** argv) {
  if (argc < 4) return 2;
  int forced = strcmp(argv[2], "rcv") == 0 ? SO_RCVBUFFORCE : strcmp(argv[2], "snd") == 0 ? SO_SNDBUFFORCE : -1;
  int plain = forced == SO_RCVBUFFORCE ? SO_RCVBUF : SO_SNDBUF;
  if (forced < 0) return 2;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return 3;
  int value = atoi(argv[3]);
  int err = setsockopt(fd, SOL_SOCKET, forced, &value, sizeof value) == 0 ? 0 : errno;
  int now = 0;
  socklen_t len = sizeof now;
  getsockopt(fd, SOL_SOCKET, plain, &now, &len);
  printf("{\"event\":\"buffer\",\"errno\":%d,\"value\":%d}\n", err, now);
  return 0;
}

static int wait_signal_mode(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigprocmask(SIG_BLOCK, &set, NULL);
  printf("{\"event\":\"ready\",\"pid\":%d,\"ppid\":%d}\n", (int)getpid(), (int)getppid());
  fflush(stdout);
  int sig = 0;
  if (sigwait(&set, &sig) != 0) return 3;
  printf("{\"event\":\"signal\",\"signo\":%d}\n", sig);
  fflush(stdout);
  signal(sig, SIG_DFL);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  raise(sig);
  return 4;
}

static int fork_exec_mode(int argc, char** argv) {
  if (argc < 3) return 2;
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return 3;
  if (pid == 0) {
    execv(argv[2], argv + 2);
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return 3;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) return 2;
  if (strcmp(argv[1], "socket") == 0) return socket_mode(argc, argv);
  if (strcmp(argv[1], "wait-signal") == 0) return wait_signal_mode();
  if (strcmp(argv[1], "fork-exec") == 0) return fork_exec_mode(argc, argv);
  if (strcmp(argv[1], "orphan-socket") == 0) return orphan_socket_mode();
  if (strcmp(argv[1], "filter") == 0) return filter_mode(argc, argv);
  if (strcmp(argv[1], "buffer") == 0) return buffer_mode(argc, argv);
  if (strcmp(argv[1], "chaos") == 0) return chaos_mode(argc, argv);
  if (strcmp(argv[1], "spin") == 0) return spin_mode(argc, argv);
  if (strcmp(argv[1], "steps") == 0) return steps_mode(argc, argv);
  if (strcmp(argv[1], "threads") == 0) return threads_mode(argc, argv);
  return 2;
}
