// Value types shared by clients and daemon: addresses, prefixes, marks, rates and sizes.
// Parsing is strict: anything that is not exactly an address / prefix / quantity is an error.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lib/core/result.h"

namespace netd {

class IpAddress {
 public:
  IpAddress() = default;
  static Result<IpAddress> parse(std::string_view text);
  static IpAddress from_v4(const in_addr& a);
  static IpAddress from_v6(const in6_addr& a);
  static IpAddress from_bytes(int family, const void* bytes);

  int family() const { return family_; }  // AF_INET or AF_INET6; AF_UNSPEC when empty
  bool is_v4() const { return family_ == AF_INET; }
  bool empty() const { return family_ == AF_UNSPEC; }
  size_t size() const { return family_ == AF_INET ? 4 : 16; }
  int bit_length() const { return family_ == AF_INET ? 32 : 128; }
  const uint8_t* bytes() const { return bytes_.data(); }
  bool is_link_local() const;  // fe80::/10 or 169.254/16
  bool is_unspecified() const;
  std::string to_string() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  // By family, then bytes: lets an address key a std::map.
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;

 private:
  int family_ = AF_UNSPEC;
  std::array<uint8_t, 16> bytes_{};
};

class Prefix {
 public:
  Prefix() = default;
  // "10.0.0.0/8", "fd00::/64"; a bare address means a host prefix (/32, /128);
  // "default" is 0.0.0.0/0 for `default_family`. Host bits must be zero.
  static Result<Prefix> parse(std::string_view text, int default_family = AF_INET);
  // Like parse but keeps host bits ("10.7.0.1/30" for an interface address).
  static Result<Prefix> parse_interface(std::string_view text);
  Prefix(IpAddress address, int length) : address_(address), length_(length) {}

  const IpAddress& address() const { return address_; }
  int length() const { return length_; }
  int family() const { return address_.family(); }
  Prefix network() const;  // host bits cleared

  bool contains(const IpAddress& a) const;
  bool contains(const Prefix& p) const;  // p lies entirely inside this prefix
  bool overlaps(const Prefix& p) const;
  std::string to_string() const;  // always "addr/len"

  friend bool operator==(const Prefix&, const Prefix&) = default;

 private:
  IpAddress address_;
  int length_ = 0;
};

// Bits per second, from tc's units: "50mbit", "1gbit", "800kbit", "1000bit", "10mbps" (bytes).
Result<uint64_t> parse_rate_bps(std::string_view text);
std::string format_rate_bps(uint64_t bps);
// Bytes, from tc's units: "32MiB", "64KiB", "1GiB", "1500", "10k", "10kb".
Result<uint64_t> parse_size_bytes(std::string_view text);
// Microseconds, from tc's time units: "50ms", "1s", "200us", "0.5msec"; a bare number is
// microseconds, as in tc.
Result<uint64_t> parse_time_us(std::string_view text);
// In the largest of s, ms, us that keeps it whole: "300s", "1500ms", "250us" (parse_time_us reads it back).
std::string format_time_us(uint64_t us);

// Strict decimal/hex integer in [min, max]; "0x" prefix allowed.
Result<uint64_t> parse_uint(std::string_view text, uint64_t min, uint64_t max);

// The longest device name the kernel takes: IFNAMSIZ less the terminating NUL.
inline constexpr size_t kMaxIfnameLength = 15;

// Linux's dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or whitespace; and no
// NUL, which would cut the name short where it becomes a C string. The error (EINVAL) names the
// name (echoed) and the reason: "'a/b' is not a device name: it contains '/'"; callers put what
// the name is in front ("dev ", "ifname ").
Status check_ifname(std::string_view name);
// check_ifname(name).ok()
bool is_valid_ifname(std::string_view name);

}  // namespace netd
