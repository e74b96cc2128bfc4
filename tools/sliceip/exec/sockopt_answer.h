// What a trapped setsockopt() gets, decided from its arguments and the socket's lock (pure).
//
// netd's sockets carry a locked filter (SO_LOCK_FILTER), so the kernel refuses SO_ATTACH_FILTER,
// SO_ATTACH_BPF and SO_DETACH_FILTER on them with EPERM, and libpcap then gives up ("can't remove
// kernel filter"). Answered instead with what libpcap understands: ENOPROTOOPT for attach (it
// then filters in user space, silently and correctly) and ENOENT for detach (no filter of the
// program's own to remove). Sockets without a locked filter are the program's own: the kernel
// decides, as without sliceip. Using the kernel's lock flag rather than a list of injected fds
// keeps this right across dup, fork, exec and threads.
//
// SO_RCVBUFFORCE / SO_SNDBUFFORCE need CAP_NET_ADMIN: they go to io.netd.SocketOps, which grants
// them up to the slice's max_sockbuf. SO_PRIORITY is not trapped: 0..6 needs no privilege, and
// netd grants nothing above 6 (max_priority is at most 6), so the kernel's answer is netd's.
#pragma once

#include <cstdint>
#include <string>

namespace sliceip::exec {

enum class SockoptKind {
  kOther,          // not trapped on purpose: goes on unchanged
  kAttachFilter,   // SO_ATTACH_FILTER, SO_ATTACH_BPF
  kDetachFilter,   // SO_DETACH_FILTER (= SO_DETACH_BPF)
  kForcedBuffer,   // SO_RCVBUFFORCE, SO_SNDBUFFORCE
};

SockoptKind classify_sockopt(int level, int optname);

// The errno for an attach/detach on a socket whose filter is `locked`; 0 = let the kernel decide
// (also when optlen is shorter than an int, which the kernel refuses with EINVAL first).
int filter_call_errno(SockoptKind kind, bool locked, uint64_t optlen);

// Whether a forced-buffer call carries a readable int (optlen ≥ sizeof(int), as the kernel
// requires: a shorter one gets the kernel's EINVAL).
bool forced_buffer_value_readable(uint64_t optlen);

// "setsockopt(SO_RCVBUFFORCE, 67108864)": how the refusal line names the call.
std::string describe_sockopt_call(int optname, int64_t value);

}  // namespace sliceip::exec
