#include "tools/sliceip/exec/tun_answer.h"

#include <fcntl.h>
#include <linux/if_tun.h>

#include <cerrno>

namespace sliceip::exec {

static_assert(kTunOpenMask == (O_ACCMODE | O_CREAT | O_TRUNC | O_PATH | O_DIRECTORY));
static_assert(kTunOpenWant == O_RDWR);

namespace {

// Flags no device from netd can honour: netd makes and attaches its devices with none of these.
struct Unmatched {
  uint16_t flag;
  const char* words;
};
constexpr Unmatched kUnmatched[] = {
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

std::string ifreq_name(std::string_view name_bytes) {
  // The kernel cuts the name at IFNAMSIZ - 1 bytes, as here.
  std::string_view name = name_bytes.substr(0, name_bytes.empty() ? 0 : name_bytes.size() - 1);
  return std::string(name.substr(0, name.find('\0')));
}

bool is_tun_open_flags(uint64_t flags) { return (static_cast<uint32_t>(flags) & kTunOpenMask) == kTunOpenWant; }

bool is_tun_path(std::string_view bytes) {
  return bytes.size() == kTunPathReadLength && bytes.substr(0, kTunPath.size()) == kTunPath &&
         bytes.back() == '\0';
}

TunAnswer answer_tunsetiff(const TunSetIff& request) {
  TunAnswer answer;
  answer.name = ifreq_name(request.name_bytes);
  const std::string_view name = answer.name;
  const uint16_t kind = request.flags & (IFF_TUN | IFF_TAP);
  if (kind != IFF_TUN && kind != IFF_TAP) return refuse(answer, EINVAL, "ifr_flags name neither IFF_TUN nor IFF_TAP");
  answer.vif_kind = kind == IFF_TUN ? "tun" : "tap";
  answer.multi_queue = (request.flags & IFF_MULTI_QUEUE) != 0;
  answer.packet_info = (request.flags & IFF_NO_PI) == 0;
  answer.vnet_hdr = (request.flags & IFF_VNET_HDR) != 0;
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

std::string tun_mismatch(const TunAnswer& asked, const TunGot& got) {
  if (got.kind != asked.vif_kind)
    return asked.name + " is a " + got.kind + " device, not a " + asked.vif_kind + " device";
  if (got.multi_queue != asked.multi_queue)
    return asked.name + (got.multi_queue ? " is multi-queue: IFF_MULTI_QUEUE must be set"
                                         : " is not multi-queue: IFF_MULTI_QUEUE must not be set");
  // netd refuses a format it cannot give; this guards against a netd that ignored the request.
  if (got.packet_info != asked.packet_info)
    return asked.name + (got.packet_info ? " carries the packet information header: IFF_NO_PI must not be set"
                                         : " carries no packet information header: IFF_NO_PI must be set");
  if (got.vnet_hdr != asked.vnet_hdr)
    return asked.name + (got.vnet_hdr ? " carries a virtio-net header: IFF_VNET_HDR must be set"
                                      : " carries no virtio-net header: IFF_VNET_HDR must not be set");
  return "";
}

std::string describe_tunsetiff(const TunAnswer& answer) {
  if (answer.kind == TunAnswer::Kind::kAttach || (!answer.name.empty() && answer.name.find('%') == std::string::npos))
    return "ioctl(TUNSETIFF, " + answer.name + ")";
  return "ioctl(TUNSETIFF, new " + (answer.vif_kind.empty() ? std::string("device") : answer.vif_kind) + ")";
}

std::string describe_set_mtu(const SetMtu& request) { return "ioctl(SIOCSIFMTU, " + request.name + ")"; }

}  // namespace sliceip::exec
