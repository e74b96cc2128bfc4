#include "netd/kernel/caps/privileges.h"

#include <sys/prctl.h>

#include <array>
#include <cerrno>
#include <memory>

namespace netd::kernel {
namespace {

// Found by running the integration suite with netd holding only these (and checked by the
// tests that start netd without one of them). CAP_NET_BIND_SERVICE is for
// io.netd.SocketOps.Bind: netd binds a slice's reserved low port on a socket the cgroup bind
// hook does not judge (one made outside the cgroup it is attached at), so nothing but netd's
// own capability lets the kernel allow it; the hook's "allowed without the capability" verdict
// covers only sockets of that cgroup, and netd itself runs outside the slices' cgroups.
// CAP_PERFMON is for download shaping alone: its classifier reads a request or timewait
// socket's mark and a conntrack entry's mark through kernel (BTF) pointers, which the verifier
// allows only to CAP_PERFMON (or CAP_SYS_ADMIN); netd opens no perf events.
constexpr std::array<CapabilityUse, 5> kKept = {{
    {CAP_NET_BIND_SERVICE, "CAP_NET_BIND_SERVICE",
     "binds a slice's reserved ports below 1024 on the sockets members pass it (io.netd.SocketOps.Bind)", false},
    {CAP_NET_ADMIN, "CAP_NET_ADMIN",
     "programs routes, rules, qdiscs, nftables, TUN/TAP devices, sysctls and netlink logging, sets SO_MARK and "
     "attaches cgroup, tcx and socket-filter BPF programs",
     true},
    {CAP_NET_RAW, "CAP_NET_RAW", "creates the raw and packet sockets it hands to slices", false},
    {CAP_PERFMON, "CAP_PERFMON",
     "loads the download shaping classifier, which reads socket and conntrack marks through kernel pointers", false},
    {CAP_BPF, "CAP_BPF", "loads BPF programs and creates and pins BPF maps and links", true},
}};

bool kept(cap_value_t cap) {
  for (const auto& use : kKept)
    if (use.cap == cap) return true;
  return false;
}

using CapHandle = std::unique_ptr<std::remove_pointer_t<cap_t>, int (*)(void*)>;

CapHandle own(cap_t caps) { return CapHandle(caps, cap_free); }

}  // namespace

std::span<const CapabilityUse> kept_capabilities() { return kKept; }

Status drop_privileges() {
  // Bounding set first: dropping from it needs CAP_SETPCAP, which goes with the rest below.
  for (cap_value_t cap = 0; cap <= CAP_LAST_CAP || CAP_IS_SUPPORTED(cap); ++cap) {
    if (!CAP_IS_SUPPORTED(cap)) break;
    if (kept(cap) || cap_get_bound(cap) != 1) continue;
    if (cap_drop_bound(cap) != 0) {
      auto name = std::unique_ptr<char, int (*)(void*)>(cap_to_name(cap), cap_free);
      return errno_error(std::string("dropping ") + (name ? name.get() : "a capability") +
                         " from the bounding set (start netd with CAP_SETPCAP, or with a bounding set of only " +
                         describe_kept_capabilities() + ")");
    }
  }
  CapHandle caps = own(cap_init());  // everything clear: inheritable stays empty
  if (!caps) return errno_error("cap_init");
  std::array<cap_value_t, kKept.size()> values{};
  int n = 0;
  for (const auto& use : kKept)
    if (cap_get_bound(use.cap) == 1) values[n++] = use.cap;  // absent from the bounding set: cannot be kept
  if (n > 0 && (cap_set_flag(caps.get(), CAP_PERMITTED, n, values.data(), CAP_SET) != 0 ||
                cap_set_flag(caps.get(), CAP_EFFECTIVE, n, values.data(), CAP_SET) != 0))
    return errno_error("cap_set_flag");
  // Keeps only what is permitted already: asking for more than that fails with EPERM, which
  // the missing-capability check reports better; so intersect with what we hold.
  CapHandle held = own(cap_get_proc());
  if (!held) return errno_error("cap_get_proc");
  for (int i = 0; i < n; ++i) {
    cap_flag_value_t permitted = CAP_CLEAR;
    cap_get_flag(held.get(), values[i], CAP_PERMITTED, &permitted);
    if (permitted != CAP_SET) {
      cap_set_flag(caps.get(), CAP_PERMITTED, 1, &values[i], CAP_CLEAR);
      cap_set_flag(caps.get(), CAP_EFFECTIVE, 1, &values[i], CAP_CLEAR);
    }
  }
  if (cap_set_proc(caps.get()) != 0) return errno_error("setting the capability sets");
  if (cap_reset_ambient() != 0 && errno != EINVAL) return errno_error("clearing the ambient capabilities");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno_error("prctl(PR_SET_NO_NEW_PRIVS)");
  return ok_status();
}

bool has_capability(cap_value_t cap) {
  CapHandle held = own(cap_get_proc());
  if (!held) return false;
  cap_flag_value_t effective = CAP_CLEAR;
  return cap_get_flag(held.get(), cap, CAP_EFFECTIVE, &effective) == 0 && effective == CAP_SET;
}

std::vector<const CapabilityUse*> missing_capabilities() {
  std::vector<const CapabilityUse*> missing;
  for (const auto& use : kKept)
    if (!has_capability(use.cap)) missing.push_back(&use);
  return missing;
}

std::string lacking_capability_hint(cap_value_t cap) {
  if (has_capability(cap)) return "";
  for (const auto& use : kKept)
    if (use.cap == cap) return std::string(" (netd lacks ") + use.name + ", which it needs as it " + use.why + ")";
  return " (netd lacks a capability it needs)";
}

std::string describe_kept_capabilities() {
  std::string out;
  for (const auto& use : kKept) out += (out.empty() ? "" : " ") + std::string(use.name);
  return out;
}

}  // namespace netd::kernel
