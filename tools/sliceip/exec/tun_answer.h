// What trapped /dev/net/tun calls get, decided from their arguments (pure).
//
// An unprivileged program opens /dev/net/tun (0600 on many hosts) and asks TUNSETIFF for a new
// device (needs CAP_NET_ADMIN) or for an existing one (allowed when the caller is its owner, or
// when it has no owner and no group at all). The supervisor answers the open() with a
// placeholder (a memfd: never an unattached tun fd, which could attach such ownerless devices)
// and the TUNSETIFF on that placeholder with an fd from io.netd.Vifs put in its place: Attach
// for a named device, Add for a new one (an empty name or a "%d" template). netd's fds carry
// IFF_NO_PI and no IFF_VNET_HDR, and a device's flags are device-wide: a request asking for
// something else is refused with EINVAL rather than served a device that behaves differently.
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
    kAdd,     // io.netd.Vifs.Add(kind, persist=false, multi_queue)
    kRefuse,  // error + reason, nothing asked
  };
  Kind kind = Kind::kRefuse;
  std::string name;           // kAttach: the device; else the name as given (for the line)
  std::string vif_kind;       // "tun" or "tap"
  bool multi_queue = false;   // IFF_MULTI_QUEUE
  int error = 0;              // kRefuse: the errno
  std::string reason;         // kRefuse: why
};

TunAnswer answer_tunsetiff(const TunSetIff& request);

// Whether the device netd handed over is what TUNSETIFF asked for (the kernel says EINVAL
// for a kind or queue mismatch): "" if so, else why not.
std::string tun_mismatch(const TunAnswer& asked, const std::string& vif_kind, bool vif_multi_queue);

// "ioctl(TUNSETIFF, tap7-0)" / "ioctl(TUNSETIFF, new tap)": how a refusal line names the call.
std::string describe_tunsetiff(const TunAnswer& answer);

}  // namespace sliceip::exec
