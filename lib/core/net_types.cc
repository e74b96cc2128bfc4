#include "lib/core/net_types.h"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>
#include <cstring>

#include "lib/core/errors.h"

namespace netd {

Result<IpAddress> IpAddress::parse(std::string_view text) {
  // An embedded NUL would make inet_pton see only the part before it: "10.0.0.1\0junk" is not an address.
  if (text.empty() || text.size() > INET6_ADDRSTRLEN || text.find('\0') != std::string_view::npos)
    return make_error(EINVAL, "'" + std::string(text) + "' is not an IP address");
  std::string s(text);
  IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes_.data()) == 1) {
    a.family_ = AF_INET;
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes_.data()) == 1) {
    a.family_ = AF_INET6;
    return a;
  }
  return make_error(EINVAL, "'" + s + "' is not an IP address");
}

IpAddress IpAddress::from_v4(const in_addr& in) { return from_bytes(AF_INET, &in); }
IpAddress IpAddress::from_v6(const in6_addr& in) { return from_bytes(AF_INET6, &in); }

IpAddress IpAddress::from_bytes(int family, const void* bytes) {
  IpAddress a;
  a.family_ = family;
  std::memcpy(a.bytes_.data(), bytes, family == AF_INET ? 4 : 16);
  return a;
}

bool IpAddress::is_link_local() const {
  if (family_ == AF_INET) return bytes_[0] == 169 && bytes_[1] == 254;
  return family_ == AF_INET6 && bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80;
}

bool IpAddress::is_unspecified() const {
  for (size_t i = 0; i < size(); ++i)
    if (bytes_[i] != 0) return false;
  return true;
}

std::string IpAddress::to_string() const {
  if (empty()) return "";
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(family_, bytes_.data(), buf, sizeof buf);
  return buf;
}

namespace {

// True when the first `bits` bits of a and b agree.
bool same_leading_bits(const uint8_t* a, const uint8_t* b, int bits) {
  int whole = bits / 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  int rest = bits % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

Result<Prefix> parse_prefix(std::string_view text, int default_family, bool keep_host_bits) {
  std::string original(text);
  if (text == "default" || text == "all" || text == "any") {
    IpAddress zero = IpAddress::from_bytes(default_family, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
    return Prefix(zero, 0);
  }
  auto slash = text.find('/');
  auto addr = IpAddress::parse(text.substr(0, slash));
  if (!addr.ok()) return make_error(EINVAL, "'" + original + "' is not a prefix (ADDRESS[/LENGTH])");
  int length = addr->bit_length();
  if (slash != std::string_view::npos) {
    // Decimal only: parse_uint would also take "0x18", which no prefix notation means.
    std::string_view digits = text.substr(slash + 1);
    bool decimal = !digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos;
    auto len = decimal ? parse_uint(digits, 0, static_cast<uint64_t>(addr->bit_length()))
                       : Result<uint64_t>(make_error(EINVAL, "not decimal"));
    if (!len.ok())
      return make_error(EINVAL, "'" + original + "': prefix length must be 0.." +
                                    std::to_string(addr->bit_length()));
    length = static_cast<int>(*len);
  }
  Prefix p(*addr, length);
  if (!keep_host_bits && !(p.network() == p))
    return make_error(EINVAL, "'" + original + "' has host bits set (did you mean " +
                                  p.network().to_string() + "?)");
  return p;
}

}  // namespace

Result<Prefix> Prefix::parse(std::string_view text, int default_family) {
  return parse_prefix(text, default_family, false);
}

Result<Prefix> Prefix::parse_interface(std::string_view text) {
  if (text.find('/') == std::string_view::npos)
    return make_error(EINVAL, "'" + std::string(text) + "' needs a prefix length (ADDRESS/LENGTH)");
  return parse_prefix(text, AF_INET, true);
}

Prefix Prefix::network() const {
  uint8_t bytes[16] = {};
  std::memcpy(bytes, address_.bytes(), address_.size());
  for (int bit = length_; bit < address_.bit_length(); ++bit) bytes[bit / 8] &= ~(0x80 >> (bit % 8));
  return Prefix(IpAddress::from_bytes(address_.family(), bytes), length_);
}

bool Prefix::contains(const IpAddress& a) const {
  return a.family() == family() && same_leading_bits(a.bytes(), address_.bytes(), length_);
}

bool Prefix::contains(const Prefix& p) const {
  return p.family() == family() && p.length_ >= length_ && contains(p.address_);
}

bool Prefix::overlaps(const Prefix& p) const { return contains(p) || p.contains(*this); }

std::string Prefix::to_string() const { return address_.to_string() + "/" + std::to_string(length_); }

Result<uint64_t> parse_uint(std::string_view text, uint64_t min, uint64_t max) {
  std::string original(text);
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    return make_error(EINVAL, "'" + original + "' is not a number");
  if (v < min || v > max)
    return make_error(ERANGE, "'" + original + "' is out of range " + std::to_string(min) + ".." +
                                  std::to_string(max));
  return v;
}

namespace {

struct Unit {
  const char* suffix;
  double factor;
};

// Split "50mbit" into number and unit, then scale. Units are matched exactly (tc matches them ignoring
// case): "100Mbps" is commonly meant as megabits but is tc's megabytes, so spellings outside the
// table are refused rather than guessed.
Result<uint64_t> parse_quantity(std::string_view text, const Unit* units, size_t n_units,
                                const char* what) {
  std::string original(text);
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) return make_error(EINVAL, "'" + original + "' is not a " + what);
  double number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + i, number);
  if (ec != std::errc() || end != text.data() + i)
    return make_error(EINVAL, "'" + original + "' is not a " + what);
  std::string unit(text.substr(i));
  for (size_t u = 0; u < n_units; ++u) {
    if (unit == units[u].suffix) {
      double v = number * units[u].factor;
      if (v > 1.8e19) return make_error(ERANGE, "'" + original + "' is too large");
      return static_cast<uint64_t>(v + 0.5);
    }
  }
  return make_error(EINVAL, "'" + original + "': unknown unit '" + unit + "' for a " + what);
}

}  // namespace

Result<uint64_t> parse_rate_bps(std::string_view text) {
  // tc(8): bit/kbit/mbit/gbit/tbit are SI bits; bps/kbps/... are bytes per second; Kibit etc. IEC.
  static const Unit units[] = {
      {"", 1},           {"bit", 1},          {"kbit", 1e3},        {"mbit", 1e6},
      {"gbit", 1e9},     {"tbit", 1e12},      {"kibit", 1024.0},    {"mibit", 1048576.0},
      {"gibit", 1073741824.0}, {"bps", 8},    {"kbps", 8e3},        {"mbps", 8e6},
      {"gbps", 8e9},     {"Kbit", 1e3},       {"Mbit", 1e6},        {"Gbit", 1e9},
  };
  return parse_quantity(text, units, std::size(units), "rate (e.g. 50mbit)");
}

std::string format_rate_bps(uint64_t bps) {
  if (bps >= 1000000000 && bps % 1000000000 == 0) return std::to_string(bps / 1000000000) + "gbit";
  if (bps >= 1000000 && bps % 1000000 == 0) return std::to_string(bps / 1000000) + "mbit";
  if (bps >= 1000 && bps % 1000 == 0) return std::to_string(bps / 1000) + "kbit";
  return std::to_string(bps) + "bit";
}

Result<uint64_t> parse_size_bytes(std::string_view text) {
  static const Unit units[] = {
      {"", 1},       {"b", 1},        {"k", 1024.0},  {"kb", 1024.0},       {"KiB", 1024.0},
      {"m", 1048576.0}, {"mb", 1048576.0}, {"MiB", 1048576.0}, {"g", 1073741824.0},
      {"gb", 1073741824.0}, {"GiB", 1073741824.0}, {"kbit", 128.0}, {"mbit", 131072.0},
      {"gbit", 134217728.0},
  };
  return parse_quantity(text, units, std::size(units), "size (e.g. 32MiB)");
}

Result<uint64_t> parse_time_us(std::string_view text) {
  // tc(8) TIMES: s/sec/secs, ms/msec/msecs, us/usec/usecs.
  static const Unit units[] = {
      {"", 1},      {"us", 1},      {"usec", 1},      {"usecs", 1},    {"ms", 1e3}, {"msec", 1e3},
      {"msecs", 1e3}, {"s", 1e6},   {"sec", 1e6},     {"secs", 1e6},
  };
  return parse_quantity(text, units, std::size(units), "time (e.g. 50ms)");
}

std::string format_time_us(uint64_t us) {
  if (us >= 1000000 && us % 1000000 == 0) return std::to_string(us / 1000000) + "s";
  if (us >= 1000 && us % 1000 == 0) return std::to_string(us / 1000) + "ms";
  return std::to_string(us) + "us";
}

Status check_ifname(std::string_view name) {
  auto not_a_name = [&](const std::string& why) {
    return invalid("'" + (name.empty() ? std::string() : echoed(name)) + "' is not a device name: " + why);
  };
  if (name.empty()) return not_a_name("it is empty");
  if (name.size() > kMaxIfnameLength)
    return not_a_name("it is longer than " + std::to_string(kMaxIfnameLength) + " characters (IFNAMSIZ)");
  if (name == "." || name == "..") return not_a_name("'.' and '..' are reserved");
  for (char c : name) {
    if (c == '/' || c == ':') return not_a_name(std::string("it contains '") + c + "'");
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f')
      return not_a_name("it contains whitespace");
    // The kernel would get only the name before the NUL, not the one checked.
    if (c == '\0') return not_a_name("it contains a NUL byte");
  }
  return ok_status();
}

bool is_valid_ifname(std::string_view name) { return check_ifname(name).ok(); }

}  // namespace netd
