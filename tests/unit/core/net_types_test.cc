#include "lib/core/net_types.h"

#include "tests/fixtures/test_macros.h"

namespace netd {
namespace {

TEST(IpAddress, ParsesBothFamilies) {
  auto v4 = IpAddress::parse("198.51.100.7");
  ASSERT_OK(v4);
  EXPECT_EQ(v4->family(), AF_INET);
  EXPECT_EQ(v4->to_string(), "198.51.100.7");
  auto v6 = IpAddress::parse("fd00:7::1");
  ASSERT_OK(v6);
  EXPECT_EQ(v6->family(), AF_INET6);
  EXPECT_EQ(v6->to_string(), "fd00:7::1");
}

TEST(IpAddress, RefusesGarbage) {
  EXPECT_ERR(IpAddress::parse(""), EINVAL, "not an IP address");
  EXPECT_ERR(IpAddress::parse("10.0.0.256"), EINVAL, "'10.0.0.256' is not an IP address");
  EXPECT_ERR(IpAddress::parse("10.0.0.1 "), EINVAL, "not an IP address");
}

TEST(Prefix, ParsesAndContains) {
  auto p = Prefix::parse("10.7.0.0/24");
  ASSERT_OK(p);
  EXPECT_TRUE(p->contains(*IpAddress::parse("10.7.0.200")));
  EXPECT_FALSE(p->contains(*IpAddress::parse("10.7.1.1")));
  EXPECT_FALSE(p->contains(*IpAddress::parse("fd00::1")));
  EXPECT_TRUE(p->contains(*Prefix::parse("10.7.0.128/25")));
  EXPECT_FALSE(p->contains(*Prefix::parse("10.7.0.0/23")));
  EXPECT_TRUE(Prefix::parse("0.0.0.0/0")->contains(*p));
  EXPECT_TRUE(Prefix::parse("10.0.0.0/8")->overlaps(*p));
  EXPECT_FALSE(Prefix::parse("10.8.0.0/24")->overlaps(*p));
}

TEST(Prefix, HostRouteAndDefault) {
  EXPECT_EQ(Prefix::parse("192.0.2.1")->to_string(), "192.0.2.1/32");
  EXPECT_EQ(Prefix::parse("2001:db8::1")->to_string(), "2001:db8::1/128");
  EXPECT_EQ(Prefix::parse("default")->to_string(), "0.0.0.0/0");
  EXPECT_EQ(Prefix::parse("default", AF_INET6)->to_string(), "::/0");
}

TEST(Prefix, RefusesHostBitsAndBadLengths) {
  EXPECT_ERR(Prefix::parse("10.7.0.1/24"), EINVAL, "host bits set .*10.7.0.0/24");
  EXPECT_ERR(Prefix::parse("10.7.0.0/33"), EINVAL, "prefix length must be 0..32");
  EXPECT_ERR(Prefix::parse("10.7.0.0/"), EINVAL, "prefix length");
  EXPECT_ERR(Prefix::parse("fd00::/129"), EINVAL, "0..128");
  EXPECT_ERR(Prefix::parse("nonsense/8"), EINVAL, "not a prefix");
}

TEST(Prefix, InterfaceAddressKeepsHostBits) {
  auto p = Prefix::parse_interface("10.7.0.1/30");
  ASSERT_OK(p);
  EXPECT_EQ(p->to_string(), "10.7.0.1/30");
  EXPECT_EQ(p->network().to_string(), "10.7.0.0/30");
  EXPECT_ERR(Prefix::parse_interface("10.7.0.1"), EINVAL, "needs a prefix length");
}

TEST(Quantities, RatesInTcUnits) {
  EXPECT_EQ(*parse_rate_bps("50mbit"), 50'000'000u);
  EXPECT_EQ(*parse_rate_bps("1gbit"), 1'000'000'000u);
  EXPECT_EQ(*parse_rate_bps("800kbit"), 800'000u);
  EXPECT_EQ(*parse_rate_bps("1mbps"), 8'000'000u);
  EXPECT_EQ(*parse_rate_bps("1.5mbit"), 1'500'000u);
  EXPECT_ERR(parse_rate_bps("fast"), EINVAL, "not a rate");
  EXPECT_ERR(parse_rate_bps("10furlongs"), EINVAL, "unknown unit 'furlongs'");
  EXPECT_EQ(format_rate_bps(50'000'000), "50mbit");
}

TEST(Quantities, SizesInTcUnits) {
  EXPECT_EQ(*parse_size_bytes("32MiB"), 32u << 20);
  EXPECT_EQ(*parse_size_bytes("64KiB"), 64u << 10);
  EXPECT_EQ(*parse_size_bytes("1500"), 1500u);
  EXPECT_ERR(parse_size_bytes("MiB"), EINVAL, "not a size");
}

TEST(Quantities, TimesInTcUnits) {
  EXPECT_EQ(*parse_time_us("50ms"), 50'000u);
  EXPECT_EQ(*parse_time_us("1s"), 1'000'000u);
  EXPECT_EQ(*parse_time_us("0.5msec"), 500u);
  EXPECT_EQ(*parse_time_us("200usecs"), 200u);
  EXPECT_EQ(*parse_time_us("700"), 700u);  // tc: a bare number is microseconds
  EXPECT_ERR(parse_time_us("ms"), EINVAL, "not a time");
  EXPECT_ERR(parse_time_us("5min"), EINVAL, "unknown unit 'min'");
  EXPECT_EQ(format_time_us(300'000'000), "300s");
  EXPECT_EQ(format_time_us(1'500'000), "1500ms");
  EXPECT_EQ(format_time_us(250), "250us");
  EXPECT_EQ(format_time_us(0), "0us");
  EXPECT_EQ(*parse_time_us(format_time_us(1'500'000)), 1'500'000u);
}

TEST(Quantities, StrictIntegers) {
  EXPECT_EQ(*parse_uint("0x0fff0000", 0, UINT32_MAX), 0x0fff0000u);
  EXPECT_ERR(parse_uint("12a", 0, 100), EINVAL, "not a number");
  EXPECT_ERR(parse_uint("101", 0, 100), ERANGE, "out of range 0..100");
  EXPECT_ERR(parse_uint("-1", 0, 100), EINVAL, "not a number");
}

// As the kernel's dev_valid_name(): IFNAMSIZ - 1 bytes at most, no '/', ':' or whitespace.
TEST(InterfaceNames, AsTheKernelTakesThem) {
  for (std::string_view name : {"eth0", "tap7-0", "a", "br.10", "x_y-z@1", "123456789012345"})
    EXPECT_TRUE(is_valid_ifname(name)) << name;
  for (std::string_view name : {"", ".", "..", "1234567890123456", "a/b", "a:1", "a b", "a\tb",
                                "a\nb", "a\vb", "a\fb", "a\rb"})
    EXPECT_FALSE(is_valid_ifname(name)) << name;
  // Found by fuzzing (tests/fuzz/net_types): a name with a NUL passed, though the kernel (and
  // an exported VTUNTAP_IFNAME) would see only the part before it.
  EXPECT_FALSE(is_valid_ifname(std::string_view("tap7-0\0x", 8)));
  EXPECT_FALSE(is_valid_ifname(std::string_view("\0m", 2)));
}

// check_ifname says why, echoing the name bounded and printable (it ends up in the audit line).
TEST(InterfaceNames, TheRefusalSaysWhy) {
  using namespace std::string_literals;
  struct Case {
    std::string name;
    std::string message;  // "" = accepted
  };
  const Case cases[] = {
      {"123456789012345", ""},
      {"1234567890123456", "'1234567890123456' is not a device name: it is longer than 15 characters (IFNAMSIZ)"},
      {"", "'' is not a device name: it is empty"},
      {".", "'.' is not a device name: '.' and '..' are reserved"},
      {"..", "'..' is not a device name: '.' and '..' are reserved"},
      {"...", ""},
      {".a", ""},
      {"a/b", "'a/b' is not a device name: it contains '/'"},
      {"eth0:1", "'eth0:1' is not a device name: it contains ':'"},
      {"a b", "'a b' is not a device name: it contains whitespace"},
      {"a\tb", "'a?b' is not a device name: it contains whitespace"},
      {"a\nb", "'a?b' is not a device name: it contains whitespace"},
      {"tap7-0\0x"s, "'tap7-0?x' is not a device name: it contains a NUL byte"},
      {"\0"s, "'?' is not a device name: it contains a NUL byte"},
      // Length is checked first: a long name is echoed cut to 32 characters.
      {std::string(40, 'x') + "/", "'" + std::string(32, 'x') + "...' is not a device name: it is longer than 15 "
                                   "characters (IFNAMSIZ)"},
      {"\x1b[31m/", "'?[31m/' is not a device name: it contains '/'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.name));
    Status st = check_ifname(c.name);
    EXPECT_EQ(is_valid_ifname(c.name), st.ok());
    if (c.message.empty()) {
      EXPECT_OK(st);
    } else {
      ASSERT_FALSE(st.ok());
      EXPECT_EQ(st.error().code, EINVAL);
      EXPECT_EQ(st.error().kind, ErrorKind::kInvalidArgument);
      EXPECT_EQ(st.error().message, c.message);
    }
  }
}

}  // namespace
}  // namespace netd
