#include "tools/sliceip/exec/seccomp_program.h"

#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include "lib/core/unique_fd.h"
#include "tools/sliceip/exec/tun_answer.h"

namespace sliceip::exec {

namespace {

struct ContextFree {
  void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};
using Context = std::unique_ptr<void, ContextFree>;

netd::Error seccomp_error(const std::string& what, int rc) {
  return netd::make_error(-rc, what + ": " + std::strerror(-rc));
}

// socket(family, SOCK_RAW | any flags, *). The 32-bit comparisons ignore the registers' upper
// halves, which an int argument does not define.
int trap_raw_socket(scmp_filter_ctx ctx, int family) {
  return seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(socket), 2, SCMP_A0_32(SCMP_CMP_EQ, family),
                          SCMP_A1_32(SCMP_CMP_MASKED_EQ, 0xf, SOCK_RAW));
}

// setsockopt(*, SOL_SOCKET, optname, ...).
int trap_socket_option(scmp_filter_ctx ctx, int optname) {
  return seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(setsockopt), 2, SCMP_A1_32(SCMP_CMP_EQ, SOL_SOCKET),
                          SCMP_A2_32(SCMP_CMP_EQ, optname));
}

// open/openat of something read-write that is not created, truncated, a directory or an O_PATH
// (what opening /dev/net/tun looks like), ioctl(*, TUNSETIFF) and ioctl(*, SIOCSIFMTU). Any
// other open or ioctl stays in the kernel.
int trap_tun_devices(scmp_filter_ctx ctx) {
  if (int rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(openat), 1,
                                SCMP_A2_32(SCMP_CMP_MASKED_EQ, kTunOpenMask, kTunOpenWant));
      rc < 0)
    return rc;
#ifdef __NR_open
  if (int rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(open), 1,
                                SCMP_A1_32(SCMP_CMP_MASKED_EQ, kTunOpenMask, kTunOpenWant));
      rc < 0)
    return rc;
#endif
  if (int rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(ioctl), 1,
                                SCMP_A1_32(SCMP_CMP_EQ, static_cast<uint32_t>(TUNSETIFF)));
      rc < 0)
    return rc;
  return seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(ioctl), 1,
                          SCMP_A1_32(SCMP_CMP_EQ, static_cast<uint32_t>(SIOCSIFMTU)));
}

netd::Result<std::vector<sock_filter>> export_program(scmp_filter_ctx ctx) {
  netd::UniqueFd mem(memfd_create("sliceip-exec-filter", MFD_CLOEXEC));
  if (!mem.valid()) return netd::errno_error("memfd_create");
  if (int rc = seccomp_export_bpf(ctx, mem.get()); rc < 0) return seccomp_error("seccomp_export_bpf", rc);
  struct stat st {};
  if (fstat(mem.get(), &st) < 0) return netd::errno_error("fstat of the exported filter");
  if (st.st_size <= 0 || st.st_size % sizeof(sock_filter) != 0)
    return netd::make_error(EPROTO, "libseccomp exported " + std::to_string(st.st_size) + " bytes, not a program");
  std::vector<sock_filter> program(static_cast<size_t>(st.st_size) / sizeof(sock_filter));
  ssize_t n = pread(mem.get(), program.data(), static_cast<size_t>(st.st_size), 0);
  if (n != st.st_size) return netd::errno_error("reading the exported filter");
  return program;
}

}  // namespace

netd::Result<std::vector<sock_filter>> build_filter(const TrapSet& traps) {
  Context ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return netd::make_error(ENOMEM, "seccomp_init failed");
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW); rc < 0)
    return seccomp_error("seccomp_attr_set(ACT_BADARCH)", rc);
  // The child sets no_new_privs itself, before installing the exported program.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0); rc < 0)
    return seccomp_error("seccomp_attr_set(CTL_NNP)", rc);
  if (traps.raw_sockets) {
    for (int family : {AF_INET, AF_INET6, AF_PACKET})
      if (int rc = trap_raw_socket(ctx.get(), family); rc < 0) return seccomp_error("trapping socket()", rc);
  }
  // Only binds with a sockaddr_ll's length: an IPv4 (16) or IPv6 (28) bind is never stopped.
  if (traps.packet_binds) {
    int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_NOTIFY, SCMP_SYS(bind), 1,
                              SCMP_A2_32(SCMP_CMP_EQ, sizeof(sockaddr_ll)));
    if (rc < 0) return seccomp_error("trapping bind()", rc);
  }
  std::vector<int> options;
  if (traps.socket_filters) options.insert(options.end(), {SO_ATTACH_FILTER, SO_ATTACH_BPF, SO_DETACH_FILTER});
  if (traps.forced_buffers) options.insert(options.end(), {SO_RCVBUFFORCE, SO_SNDBUFFORCE});
  for (int optname : options)
    if (int rc = trap_socket_option(ctx.get(), optname); rc < 0) return seccomp_error("trapping setsockopt()", rc);
  if (traps.tun_devices)
    if (int rc = trap_tun_devices(ctx.get()); rc < 0) return seccomp_error("trapping open()/ioctl(TUNSETIFF, SIOCSIFMTU)", rc);
  return export_program(ctx.get());
}

}  // namespace sliceip::exec
