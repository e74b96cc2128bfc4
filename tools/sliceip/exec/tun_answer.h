// What trapped /dev/net/tun calls get, decided from their arguments (pure).
//
// An unprivileged program opens /dev/net/tun (0600 on many hosts) and asks TUNSETIFF for a new
// device (needs CAP_NET_ADMIN) or for an existing one (allowed when the caller is its owner, or
// when it has no owner and no group at all). The supervisor answers the open() with a
// placeholder (a memfd: never an unattached tun fd, which could attach such ownerless devices)
// and the TUNSETIFF on that placeholder with an fd from io.netd.Vifs put in its place: Attach
// for a named device, Add for a new one (an empty name or a "%d" template). The packet format
// asked (IFF_NO_PI or not, IFF_VNET_HDR) is asked of netd too; flags netd does not offer
// (IFF_NAPI, IFF_NAPI_FRAGS, IFF_NO_CARRIER) are refused with EINVAL rather than served a
// device that behaves differently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sliceip::exec {

// open()/openat() flags the filter traps (and the responder checks again): read-write, no
// creation, truncation, O_PATH or O_DIRECTORY; O_CLOEXEC, O_NONBLOCK and the like may be set.
inline constexpr uint32_t kTunOpenMask = 03 /*O_ACCMODE*/ | 0100 /*O_CREAT*/ | 01000 /*O_TRUNC*/ |
                                         010000000 /*O_PATH*/ | 0200000 /*O_DIRECTORY*/;
inline constexpr uint32_t kTunOpenWant = 02;  // O_RDWR
bool is_tun_open_flags(uint64_t flags);

// The path the supervisor answers; anything else goes on to the kernel.
inline constexpr std::string_view kTunPath = "/dev/net/tun";
// How many bytes of the path argument to read: the path and its NUL. A shorter readable string
// cannot be kTunPath, so an unreadable tail (EFAULT) also means "not ours".
inline constexpr size_t kTunPathReadLength = kTunPath.size() + 1;
bool is_tun_path(std::string_view bytes);

// struct ifreq as TUNSETIFF reads it: the name (IFNAMSIZ bytes, maybe without a NUL) and flags.
struct TunSetIff {
  std::string_view name_bytes;  // the 16 bytes of ifr_name
  uint16_t flags = 0;           // ifr_flags
};

struct TunAnswer {
  enum class Kind {
    kAttach,  // io.netd.Vifs.Attach(name)
    kAdd,     // io.netd.Vifs.Add(kind, persist=false, multi_queue, packet_info, vnet_hdr)
    kRefuse,  // error + reason, nothing asked
  };
  Kind kind = Kind::kRefuse;
  std::string name;           // kAttach: the device; else the name as given (for the line)
  std::string vif_kind;       // "tun" or "tap"
  bool multi_queue = false;   // IFF_MULTI_QUEUE
  bool packet_info = false;   // no IFF_NO_PI: the 4-byte packet information header
  bool vnet_hdr = false;      // IFF_VNET_HDR
  int error = 0;              // kRefuse: the errno
  std::string reason;         // kRefuse: why
};

TunAnswer answer_tunsetiff(const TunSetIff& request);

// What netd handed over, as its reply describes the device.
struct TunGot {
  std::string kind;  // "tun" or "tap"
  bool multi_queue = false;
  bool packet_info = false;
  bool vnet_hdr = false;
};

// Whether the device netd handed over is what TUNSETIFF asked for (the kernel says EINVAL
// for a kind or queue mismatch): "" if so, else why not.
std::string tun_mismatch(const TunAnswer& asked, const TunGot& got);

// "ioctl(TUNSETIFF, tap7-0)" / "ioctl(TUNSETIFF, new tap)": how a refusal line names the call.
std::string describe_tunsetiff(const TunAnswer& answer);

// A device name as the kernel reads ifr_name: at most IFNAMSIZ - 1 bytes, up to a NUL.
std::string ifreq_name(std::string_view name_bytes);

// ioctl(SIOCSIFMTU) on a socket of netd's netns (wireguard-go sets its tun's mtu so): needs
// CAP_NET_ADMIN, so the supervisor asks io.netd.Vifs.SetLink instead, which changes only the
// slice's own devices, within the policy's limits; anything else is refused as the kernel
// would (EPERM), with netd's reason.
struct SetMtu {
  std::string name;
  int64_t mtu = 0;  // ifr_mtu, as the program gave it
};
// "ioctl(SIOCSIFMTU, tun7-0)".
std::string describe_set_mtu(const SetMtu& request);

}  // namespace sliceip::exec
