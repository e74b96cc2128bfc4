#include "netd/kernel/caps/syscall_filter.h"

#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace netd::kernel {
namespace {

// What netd calls once it serves: the 38 calls netd made while the whole integration suite ran
// with this filter's default action SCMP_ACT_LOG (counted with a tracepoint on raw_syscalls),
// plus those that a path in the code needs and the suite may not reach (statfs, inotify_*: policy.d
// appearing after the start; ftruncate: a failed append to the slice-id journal; mremap and
// clock_gettime, marked "not reached").
// Grouped by purpose; the README and netd(8) list the same.
constexpr SyscallUse kAllowed[] = {
    // Files: the policy and policy.d on reload, /proc/sys writes, /dev/net/tun, bpffs pin
    // directories, the slice-id record in the state directory, the log on stderr.
    {"read", "reads its signalfd, the policy files, /proc and /sys files"},
    {"write", "writes its log lines and /proc/sys values (a vif's sysctls)"},
    {"openat", "opens the policy files, /proc/sys, /dev/net/tun and (libbpf) /sys files"},
    {"close", "closes every fd it opened, connections and the sockets it handed out"},
    {"lseek", "seeks in the policy files as it reads them (iostreams)"},
    {"newfstatat", "stats paths and fds: the policy files, bpffs pins, passed fds' types (fstat)"},
    {"faccessat2", "checks that a file exists (libbpf, the policy)"},
    {"getdents64", "lists policy.d on reload"},
    {"mkdir", "creates bpffs pin directories and the state directory"},
    {"unlink", "removes bpffs pins of what the policy no longer has"},
    {"rename", "replaces the slice-id record atomically"},
    {"fsync", "makes the slice-id record durable before the rename, and its journal after an append"},
    {"ftruncate", "cuts the slice-id journal back after an append that failed"},
    {"statfs", "checks a new bpffs pin directory's parent is on bpffs, and that the policy directories are local (inotify)"},
    {"inotify_init1", "watches the policy directories anew when policy.d appears or goes (a reload reads only changed files)"},
    {"inotify_add_watch", "the same: the main file's directory and policy.d"},
    {"fcntl", "sets O_NONBLOCK on connections, duplicates fds with FD_CLOEXEC (libbpf)"},
    {"dup3", "libbpf reuses a pinned map's fd on reload (bpf_map__reuse_fd)"},
    {"ioctl", "sets up TUN/TAP devices (TUNSETIFF, TUNSETOWNER, TUNSETGROUP, TUNSETPERSIST)"},
    // Sockets: netlink (routes, links, qdiscs, nftables batches), the Varlink clients
    // (SO_PEERCRED, SCM_RIGHTS), the raw and packet sockets it hands to slices, sd_notify.
    {"socket", "creates netlink, AF_UNIX, raw and packet sockets (those families only)"},
    {"bind", "binds netlink sockets, packet sockets to a device and members' passed sockets to their reserved ports"},
    {"accept4", "accepts Varlink clients"},
    {"setsockopt", "sets SO_MARK, netlink options and buffer sizes, attaches socket filters"},
    {"getsockopt", "reads SO_PEERCRED of clients and SO_DOMAIN/SO_TYPE/SO_PROTOCOL/SO_MARK/SO_NETNS_COOKIE of passed fds"},
    {"sendmsg", "replies (with SCM_RIGHTS fds), netlink and nftables batches, sd_notify"},
    {"recvmsg", "reads requests (with their fds), netlink replies and events"},
    {"sendto", "sends netlink requests (libnl, libmnl)"},
    {"recvfrom", "reads netlink replies (libmnl)"},
    // The event loop.
    {"epoll_wait", "waits for clients, netlink events and signals"},
    {"epoll_ctl", "watches and unwatches connections"},
    // policy_source = "etcd": the hand-over with the fleet watcher thread (a mutex and a
    // condition variable around the revision it offers and the verdict it gets back).
    {"futex", "waits on and wakes the fleet watcher thread (mutex, condition variable)"},
    // Not in the suite's trace until a test stopped a thread: a wait with a timeout (futex,
    // clock_nanosleep) that a stop interrupts (SIGSTOP, a debugger, the cgroup freezer) is
    // resumed by the kernel through this call; refused, the wait fails with EPERM.
    {"restart_syscall", "the kernel resumes a timed wait (futex) after netd was stopped (SIGSTOP, a debugger, the cgroup freezer)"},
    // BPF: program loads on reload, map updates for every slice and vif change, pins, links.
    {"bpf", "loads programs, creates, updates and pins maps and links"},
    // Memory.
    {"brk", "allocates memory (malloc)"},
    {"mmap", "allocates large blocks, maps BPF skeleton data and libbpf's ELF files"},
    {"munmap", "frees large blocks and unmaps BPF objects"},
    {"mremap", "grows a large block (realloc of a netlink dump buffer; not reached)"},
    // Process and identity (reading its own; changing nothing).
    {"getuid", "libsystemd and libbpf check who they run as"},
    {"getgid", "libsystemd checks who it runs as"},
    {"geteuid", "libsystemd and libbpf check who they run as"},
    {"getegid", "libsystemd checks who it runs as"},
    {"capget", "reads its capabilities to say which one a refused request lacked"},
    {"prlimit64", "reads RLIMIT_NOFILE when a reloaded policy's limits are checked"},
    {"uname", "libbpf reads the kernel release when it opens a BPF object"},
    {"clock_gettime", "times requests when the clock has no vDSO (not reached: the vDSO answers here)"},
    {"exit_group", "exits on SIGTERM"},
};

// The fleet's threads, besides: what they called while the fleet tests ran (put, change,
// removal, a refused revision, etcd killed and restarted, a leader killed in a 3-member
// cluster, compaction, lease expiry; 26 netd processes) with a raw_syscalls:sys_enter
// tracepoint following netd's threads, less what kAllowed has.
constexpr SyscallUse kFleet[] = {
    // Threads: gRPC starts its own (executors, timers, the resolver) when it needs them.
    {"clone", "starts the fleet watcher's and gRPC's threads (CLONE_THREAD only: never a process)"},
    {"set_robust_list", "glibc registers a new thread's robust futex list"},
    {"rseq", "glibc registers a new thread's restartable sequences"},
    {"rt_sigprocmask", "a new thread blocks every signal (netd reads its signals on the main thread)"},
    {"prctl", "gRPC names its threads (PR_SET_NAME only)"},
    {"mprotect", "thread stacks' guard pages and the threads' malloc arenas (never PROT_EXEC)"},
    {"madvise", "glibc returns an ended thread's stack and a thread arena's free pages"},
    {"exit", "a thread ends (gRPC's pool shrinks, the watcher at netd's exit)"},
    {"sched_yield", "gRPC's spin locks yield"},
    {"sched_getparam", "gRPC's thread pool reads its threads' scheduling"},
    {"sched_getscheduler", "gRPC's thread pool reads its threads' scheduling policy"},
    {"getpid", "gRPC checks whether it runs in a forked child"},
    {"getrandom", "gRPC's random numbers (back-off jitter, stream ids)"},
    {"clock_nanosleep", "the watcher's back-off between reconnections, gRPC's timer threads"},
    // etcd's connections (TCP, AF_INET/AF_INET6: already on socket's list).
    {"connect", "connects to etcd's endpoints"},
    {"getsockname", "gRPC reads its connection's local address"},
    {"shutdown", "gRPC ends a connection to etcd"},
};

constexpr std::array<const char*, 2> kDenied = {"execve", "execveat"};

constexpr std::array<int, 5> kFamilies = {AF_UNIX, AF_NETLINK, AF_INET, AF_INET6, AF_PACKET};

// libseccomp returns -errno rather than setting errno.
Error seccomp_error(const std::string& what, int rc) { return make_error(-rc, what + ": " + std::strerror(-rc)); }

}  // namespace

std::span<const SyscallUse> allowed_syscalls() { return kAllowed; }
std::span<const SyscallUse> fleet_syscalls() { return kFleet; }
std::span<const char* const> denied_syscalls() { return kDenied; }
std::span<const int> allowed_socket_families() { return kFamilies; }

// The calls of `uses`, each allowed as the list says: most with any arguments, a few only with
// the arguments netd needs.
Status SeccompFilter::allow(std::span<const SyscallUse> uses) {
  for (const SyscallUse& use : uses) {
    int nr = seccomp_syscall_resolve_name(use.name);
    if (nr == __NR_SCMP_ERROR) return make_error(EINVAL, std::string("seccomp: unknown system call ") + use.name);
    const std::string name = use.name;
    int rc = 0;
    if (name == "socket") {
      for (int family : kFamilies)
        if ((rc = seccomp_rule_add(ctx_, SCMP_ACT_ALLOW, nr, 1, SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(family)))) < 0)
          return seccomp_error("seccomp: allowing socket family " + std::to_string(family), rc);
      continue;
    }
    if (name == "clone") {
      // A thread shares the memory and is in the same thread group; a new process is not.
      constexpr scmp_datum_t kThread = CLONE_VM | CLONE_THREAD;
      rc = seccomp_rule_add(ctx_, SCMP_ACT_ALLOW, nr, 1, SCMP_A0(SCMP_CMP_MASKED_EQ, kThread, kThread));
    } else if (name == "prctl") {
      rc = seccomp_rule_add(ctx_, SCMP_ACT_ALLOW, nr, 1, SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(PR_SET_NAME)));
    } else if (name == "mprotect") {
      rc = seccomp_rule_add(ctx_, SCMP_ACT_ALLOW, nr, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    } else {
      rc = seccomp_rule_add(ctx_, SCMP_ACT_ALLOW, nr, 0);
    }
    if (rc < 0) return seccomp_error(std::string("seccomp: allowing ") + use.name, rc);
  }
  return ok_status();
}

Result<SeccompFilter> SeccompFilter::build(uint32_t default_action, SyscallSet set) {
  scmp_filter_ctx ctx = seccomp_init(default_action);
  if (ctx == nullptr) return make_error(ENOMEM, "seccomp_init failed");
  SeccompFilter filter(ctx);
  // A call through a foreign ABI (i386's int 0x80, or x32, whose numbers libseccomp checks
  // for on x86_64 as long as x32 is not in the filter) can only be an attack: kill, do not
  // answer. seccomp_init added the native ABI only.
  if (int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS); rc < 0)
    return seccomp_error("seccomp: setting the foreign-ABI action", rc);
  // netd never runs a program: an attempt means someone else's code runs in it. Kill, so it
  // cannot go on to try something else; systemd restarts netd, the slices' isolation stays in
  // the kernel meanwhile. (This also keeps exec refused should the list ever grow it: adding
  // a rule that contradicts this one fails.)
  for (const char* name : kDenied) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) return make_error(EINVAL, std::string("seccomp: unknown system call ") + name);
    if (int rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, nr, 0); rc < 0)
      return seccomp_error(std::string("seccomp: refusing ") + name, rc);
  }
  NETD_TRY(filter.allow(kAllowed));
  if (set == SyscallSet::kServingWithFleet) {
    // clone3 passes its flags in memory, where a filter cannot look: ENOSYS makes glibc
    // (pthread_create) fall back to clone, whose flags it can check.
    int clone3 = seccomp_syscall_resolve_name("clone3");
    if (int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), clone3, 0); rc < 0)
      return seccomp_error("seccomp: answering clone3 with ENOSYS", rc);
    NETD_TRY(filter.allow(kFleet));
  }
  return filter;
}

SeccompFilter::SeccompFilter(SeccompFilter&& other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)) {}

SeccompFilter::~SeccompFilter() {
  if (ctx_ != nullptr) seccomp_release(ctx_);
}

Status SeccompFilter::load() {
  // Every thread, not only the caller: a thread outside the filter could make any call.
  if (int rc = seccomp_attr_set(ctx_, SCMP_FLTATR_CTL_TSYNC, 1); rc < 0)
    return seccomp_error("seccomp: asking for every thread (TSYNC)", rc);
  if (int rc = seccomp_load(ctx_); rc < 0) return seccomp_error("loading the seccomp filter", rc);
  return ok_status();
}

Result<std::string> SeccompFilter::exported(int (*exporter)(const scmp_filter_ctx, int)) const {
  // libseccomp exports to an fd; a pipe could fill up before we read it, a tmpfile cannot.
  std::FILE* f = std::tmpfile();
  if (f == nullptr) return errno_error("tmpfile");
  std::string out;
  int rc = exporter(ctx_, fileno(f));
  if (rc == 0) {
    std::rewind(f);
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  }
  std::fclose(f);
  if (rc < 0) return seccomp_error("exporting the seccomp filter", rc);
  return out;
}

Result<std::string> SeccompFilter::pseudo_code() const { return exported(seccomp_export_pfc); }
Result<std::string> SeccompFilter::bpf_program() const { return exported(seccomp_export_bpf); }

Status install_syscall_filter(SyscallSet set) {
  // Refuse rather than kill: a call missing from the list (a code path the suite did not
  // reach, a library update using a newer call) then fails as a kernel error with EPERM that
  // netd reports in the request's reply and its log, and netd keeps serving everyone else. Killing
  // would turn every such gap into an outage for all slices (isolation stays, service does not).
  NETD_ASSIGN_OR_RETURN(SeccompFilter filter, SeccompFilter::build(SCMP_ACT_ERRNO(EPERM), set));
  return filter.load();
}

}  // namespace netd::kernel
