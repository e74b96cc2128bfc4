// Least privilege, second half: a seccomp allow-list of the system calls netd makes once it
// serves, and the filter enforcing it.
//
// netd installs it after start-up (policy loaded, kernel in line, listening) and before it
// serves a request; everything it still does from then on (requests, SIGHUP reloads with their
// BPF loads, netlink and nftables batches, /proc/sys writes, TUN opens, fd passing, sd_notify)
// is on the list. The set was found by running the integration suite with the filter logging
// instead of refusing (see the README, "Least privilege"). A call not on the list fails with
// EPERM; execve and execveat, by a rule of their own, and a call made through another ABI
// (i386 int 0x80, x32) kill netd: those are never a gap in the list but an attack.
//
// With policy_source = "etcd", netd runs threads besides its main one (the fleet watcher and
// gRPC's) and they follow etcd for as long as netd serves: that filter allows the calls of
// fleet_syscalls() as well, and netd loads it into every thread at once (TSYNC).
#pragma once

#include <seccomp.h>

#include <cstdint>
#include <span>
#include <string>

#include "lib/core/result.h"

namespace netd::kernel {

// False in AddressSanitizer builds (cmake -DNETD_SANITIZE=ON or -DNETD_FUZZ=ON): the sanitizers'
// runtime makes calls of its own that no list of netd's has (readlink of /proc/self/exe to
// symbolize, a pipe to probe whether memory is readable, LeakSanitizer's ptrace thread at exit),
// and under the filter reports errors that are not there. netd serves unfiltered in those
// builds, saying so; the normal build is the one that runs filtered everywhere.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSyscallFilterInThisBuild = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kSyscallFilterInThisBuild = false;
#else
inline constexpr bool kSyscallFilterInThisBuild = true;
#endif
#else
inline constexpr bool kSyscallFilterInThisBuild = true;
#endif

struct SyscallUse {
  const char* name;  // as in syscalls(2) and libseccomp, e.g. "sendmsg"
  const char* why;   // what netd does with it
};

// The system calls netd may make once it serves, grouped by what they are for.
std::span<const SyscallUse> allowed_syscalls();

// What the fleet watcher's and gRPC's threads call besides (policy_source = "etcd"): found
// the same way, by running the fleet tests with every syscall of netd's threads traced. `clone`
// only with CLONE_THREAD (a thread, never a process: `clone3`, whose flags a filter cannot
// read, fails with ENOSYS so that glibc falls back to `clone`), `prctl` only PR_SET_NAME,
// `mprotect` never PROT_EXEC.
std::span<const SyscallUse> fleet_syscalls();

// Which calls a filter allows: those of netd serving a local policy, or with the fleet's.
enum class SyscallSet { kServing, kServingWithFleet };

// Killed by name (SCMP_ACT_KILL_PROCESS) rather than refused: netd never runs a program.
std::span<const char* const> denied_syscalls();

// The socket(2) address families netd may create (as systemd's RestrictAddressFamilies= in
// netd.service): netlink, AF_UNIX (clients, sd_notify), AF_INET/AF_INET6/AF_PACKET (slices).
std::span<const int> allowed_socket_families();

// A seccomp filter being built (libseccomp's scmp_filter_ctx), released on destruction.
class SeccompFilter {
 public:
  // The allow-list above; `default_action` for every other call of the native ABI
  // (SCMP_ACT_ERRNO(EPERM) in netd; SCMP_ACT_LOG to find what is missing).
  static Result<SeccompFilter> build(uint32_t default_action, SyscallSet set = SyscallSet::kServing);
  SeccompFilter(SeccompFilter&& other) noexcept;
  SeccompFilter& operator=(SeccompFilter&&) = delete;
  ~SeccompFilter();

  // Loads it into every thread of the process (SECCOMP_FILTER_FLAG_TSYNC: with the fleet,
  // the watcher's and gRPC's threads run already). Needs no_new_privs or CAP_SYS_ADMIN;
  // netd has set no_new_privs when it dropped its capabilities. Irreversible.
  Status load();
  // The filter in libseccomp's pseudo-filter-code text, and as the classic BPF program the
  // kernel gets (struct sock_filter[]); the tests compare the latter with what netd loaded.
  Result<std::string> pseudo_code() const;
  Result<std::string> bpf_program() const;

 private:
  explicit SeccompFilter(scmp_filter_ctx ctx) : ctx_(ctx) {}
  Status allow(std::span<const SyscallUse> uses);
  Result<std::string> exported(int (*exporter)(const scmp_filter_ctx, int)) const;
  scmp_filter_ctx ctx_;
};

// Builds and loads the filter with SCMP_ACT_ERRNO(EPERM) as its default.
Status install_syscall_filter(SyscallSet set);

}  // namespace netd::kernel
