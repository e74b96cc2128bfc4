#include "tools/sliceip/exec/tun_answer.h"

#include <fcntl.h>
#include <linux/if_tun.h>

#include <cerrno>

namespace sliceip::exec {

static_assert(kTunOpenMask == (O_ACCMODE | O_CREAT | O_TRUNC | O_PATH | O_DIRECTORY));
static_assert(kTunOpenWant == O_RDWR);

namespace {

// Flags no device from netd can honour: set when a device is made (or device-wide), and netd
// makes its devices with IFF_NO_PI and none of these.
struct Unmatched {
  uint16_t flag;
  const char* words;
};
constexpr Unmatched kUnmatched[] = {
    {IFF_VNET_HDR, "IFF_VNET_HDR (netd's devices carry no virtio-net header)"},
    {IFF_NAPI, "IFF_NAPI (not offered by netd)"},
    {IFF_NAPI_FRAGS, "IFF_NAPI_FRAGS (not offered by netd)"},
    {IFF_NO_CARRIER, "IFF_NO_CARRIER (not offered by netd)"},
};

TunAnswer refuse(TunAnswer answer, int error, std::string reason) {
  answer.kind = TunAnswer::Kind::kRefuse;
  answer.error = error;
  answer.reason = std::move(reason);
  return answer;
}

}  // namespace

bool is_tun_open_flags(uint64_t flags) { return (static_cast<uint32_t>(flags) & kTunOpenMask) == kTunOpenWant; }

bool is_tun_path(std::string_view bytes) {
  return bytes.size() == kTunPathReadLength && bytes.substr(0, kTunPath.size()) == kTunPath &&
         bytes.back() == '\0';
}

TunAnswer answer_tunsetiff(const TunSetIff& request) {
  TunAnswer answer;
  // The kernel cuts the name at IFNAMSIZ - 1 bytes, as here.
  std::string_view name = request.name_bytes.substr(0, request.name_bytes.size() > 0 ? request.name_bytes.size() - 1 : 0);
  name = name.substr(0, name.find('\0'));
  answer.name = std::string(name);
  const uint16_t kind = request.flags & (IFF_TUN | IFF_TAP);
  if (kind != IFF_TUN && kind != IFF_TAP) return refuse(answer, EINVAL, "ifr_flags name neither IFF_TUN nor IFF_TAP");
  answer.vif_kind = kind == IFF_TUN ? "tun" : "tap";
  answer.multi_queue = (request.flags & IFF_MULTI_QUEUE) != 0;
  if ((request.flags & IFF_NO_PI) == 0)
    return refuse(answer, EINVAL,
                  "IFF_NO_PI is not set: netd's devices carry no packet information header (the program "
                  "expects one)");
  for (const auto& flag : kUnmatched)
    if ((request.flags & flag.flag) != 0) return refuse(answer, EINVAL, std::string("asks for ") + flag.words);
  // A template ("tap%d") or no name: a new device, which netd names (tun<id>-<n>, tap<id>-<n>).
  if (name.empty() || name.find('%') != std::string_view::npos) {
    answer.kind = TunAnswer::Kind::kAdd;
    return answer;
  }
  if ((request.flags & IFF_TUN_EXCL) != 0)
    return refuse(answer, EPERM,
                  "IFF_TUN_EXCL asks to create " + answer.name +
                      ", but netd names new devices itself (give no name or a %d template)");
  answer.kind = TunAnswer::Kind::kAttach;
  return answer;
}

std::string tun_mismatch(const TunAnswer& asked, const std::string& vif_kind, bool vif_multi_queue) {
  if (vif_kind != asked.vif_kind)
    return asked.name + " is a " + vif_kind + " device, not a " + asked.vif_kind + " device";
  if (vif_multi_queue != asked.multi_queue)
    return asked.name + (vif_multi_queue ? " is multi-queue: IFF_MULTI_QUEUE must be set"
                                         : " is not multi-queue: IFF_MULTI_QUEUE must not be set");
  return "";
}

std::string describe_tunsetiff(const TunAnswer& answer) {
  if (answer.kind == TunAnswer::Kind::kAttach || (!answer.name.empty() && answer.name.find('%') == std::string::npos))
    return "ioctl(TUNSETIFF, " + answer.name + ")";
  return "ioctl(TUNSETIFF, new " + (answer.vif_kind.empty() ? std::string("device") : answer.vif_kind) + ")";
}

}  // namespace sliceip::exec
