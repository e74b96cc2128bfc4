#include "netd/kernel/bpf/tcx_pins.h"

#include <dirent.h>

#include <cstddef>
#include <cstring>

#include "lib/core/unique_fd.h"
#include "netd/kernel/bpf/bpffs.h"

namespace netd::kernel {
namespace {

constexpr uint32_t kBpfLinkTypeTcx = 11;

// bpf_link_info's tcx member ({ifindex, attach_type}) sits at the start of its union, like
// xdp's {ifindex}, which the 6.1 header has: read it from there.
struct TcxLinkInfo {
  uint32_t ifindex;
  uint32_t attach_type;
};
static_assert(offsetof(struct bpf_link_info, xdp) % 8 == 0);
static_assert(sizeof(bpf_link_info) - offsetof(struct bpf_link_info, xdp) >= sizeof(TcxLinkInfo));

Status detach_link(int link_fd, const std::string& pin) {
  // ENOLINK/EINVAL: already detached (its device is gone, or someone detached it).
  if (bpf_link_detach(link_fd) != 0 && errno != ENOLINK && errno != EINVAL)
    return errno_error("detaching link " + pin);
  return ok_status();
}

// Whether the pinned link is a live tcx link at `hook` of `ifindex` (a link whose device was
// removed reports ifindex 0).
Result<bool> is_tcx_link_of(int link_fd, int ifindex, enum bpf_attach_type hook, const std::string& pin) {
  struct bpf_link_info info = {};
  __u32 len = sizeof info;
  if (bpf_obj_get_info_by_fd(link_fd, &info, &len) != 0) return errno_error("reading link info of " + pin);
  if (info.type != kBpfLinkTypeTcx) return false;
  TcxLinkInfo tcx;
  std::memcpy(&tcx, reinterpret_cast<const char*>(&info) + offsetof(struct bpf_link_info, xdp), sizeof tcx);
  return tcx.ifindex == static_cast<uint32_t>(ifindex) && tcx.attach_type == static_cast<uint32_t>(hook);
}

}  // namespace

std::string tcx_link_pin(const std::string& dir, const std::string& prefix, int ifindex) {
  return dir + "/" + prefix + std::to_string(ifindex);
}

Status attach_pinned_tcx(int prog_fd, const std::string& prog_name, int ifindex, enum bpf_attach_type hook,
                         const std::string& pin) {
  NETD_ASSIGN_OR_RETURN(UniqueFd pinned, open_pin(pin));
  if (pinned.valid()) {
    NETD_ASSIGN_OR_RETURN(bool same, is_tcx_link_of(pinned.get(), ifindex, hook, pin));
    if (same) {
      if (bpf_link_update(pinned.get(), prog_fd, nullptr) != 0)
        return errno_error("updating program of pinned link " + pin);
      return ok_status();
    }
    NETD_TRY(detach_link(pinned.get(), pin));
    NETD_TRY(remove_pin(pin));
  }

  int fd = bpf_link_create(prog_fd, ifindex, hook, nullptr);
  if (fd < 0) {
    int code = errno;
    const char* where = hook == kBpfTcxIngress ? "ingress" : "egress";
    return errno_error("attaching " + prog_name + " at tcx " + where + " of ifindex " + std::to_string(ifindex) +
                           (code == EINVAL ? " (tcx needs Linux 6.6 or later)" : ""),
                       code);
  }
  UniqueFd link(fd);
  // Unpinned, the link would detach when this fd is closed (also on this error path).
  if (bpf_obj_pin(link.get(), pin.c_str()) != 0) return errno_error("pinning link at " + pin);
  return ok_status();
}

Result<std::vector<int>> pinned_link_ifindexes(const std::string& dir, const std::string& prefix) {
  std::vector<int> ifindexes;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return ifindexes;
    return errno_error("opendir " + dir);
  }
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.rfind(prefix, 0) != 0) continue;
    std::string digits = name.substr(prefix.size());
    if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    ifindexes.push_back(std::stoi(digits));
  }
  ::closedir(d);
  return ifindexes;
}

Status detach_pinned_links(const std::string& dir, const std::string& prefix) {
  NETD_ASSIGN_OR_RETURN(std::vector<int> ifindexes, pinned_link_ifindexes(dir, prefix));
  for (int ifindex : ifindexes) NETD_TRY(detach_pinned_link(tcx_link_pin(dir, prefix, ifindex)));
  return ok_status();
}

}  // namespace netd::kernel
