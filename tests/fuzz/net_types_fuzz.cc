// The value parsers every request, policy key and command line goes through: addresses and
// prefixes, rates, sizes, times, integers and device names (lib/core/net_types.h), port ranges
// and slice names (netd/policy/validate.h), vif names (netd/policy/vif_decision.h) and the
// CLIs' MTU (tools/common/words.h). The first input byte picks the parser, the rest is the
// text.
//
// Checked beyond memory safety and UB: whatever a parser accepts, its formatter writes in
// a form the parser reads back as the same value; what it accepts is in its documented
// range; two checks of the same rule agree.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "lib/core/net_types.h"
#include "netd/policy/validate.h"
#include "netd/policy/vif_decision.h"
#include "tests/fuzz/fuzz_check.h"
#include "tools/common/words.h"

namespace {

using netd::fuzz::check;

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

void address(std::string_view text) {
  auto a = netd::IpAddress::parse(text);
  if (!a.ok()) return;
  check(a->family() == AF_INET || a->family() == AF_INET6, "an address of no family");
  auto again = netd::IpAddress::parse(a->to_string());
  check(again.ok() && *again == *a, "address " + quoted(text) + " does not read back from " + a->to_string());
}

void prefix(std::string_view text, int family, bool interface) {
  auto p = interface ? netd::Prefix::parse_interface(text) : netd::Prefix::parse(text, family);
  if (!p.ok()) return;
  check(p->length() >= 0 && p->length() <= p->address().bit_length(), "prefix length out of range");
  check(p->network().contains(p->address()), "a prefix's network does not contain its address");
  if (!interface) check(p->network() == *p, "prefix " + quoted(text) + " kept host bits");
  auto again = interface ? netd::Prefix::parse_interface(p->to_string()) : netd::Prefix::parse(p->to_string());
  check(again.ok() && *again == *p, "prefix " + quoted(text) + " does not read back from " + p->to_string());
}

template <typename Parse, typename Format>
void quantity(std::string_view text, Parse parse, Format format, const char* what) {
  auto v = parse(text);
  if (!v.ok()) return;
  std::string written = format(*v);
  auto again = parse(written);
  check(again.ok() && *again == *v, std::string(what) + " " + quoted(text) + " = " + std::to_string(*v) +
                                        " does not read back from " + written);
}

void port_range(std::string_view text) {
  auto r = netd::policy::parse_port_range(text);
  if (!r.ok()) return;
  check(r->first >= 1 && r->first <= r->last, "port range " + quoted(text) + " out of order");
  auto again = netd::policy::parse_port_range(netd::policy::format_port_range(*r));
  check(again.ok() && *again == *r, "port range " + quoted(text) + " does not read back");
}

void names(std::string_view text) {
  // A refusal echoes the name bounded and printable: one short line whatever the name.
  if (auto st = netd::check_ifname(text); !st.ok())
    check(st.error().message.size() < 120 &&
              std::all_of(st.error().message.begin(), st.error().message.end(),
                          [](char c) { return c >= 0x20 && c < 0x7f; }),
          "check_ifname's reason is not one short printable line for " + quoted(text));
  if (auto vif = netd::policy::parse_vif_name(text)) {
    check(netd::policy::format_vif_name(*vif) == text, "vif name " + quoted(text) + " is not written as read");
    check(netd::is_valid_ifname(text), "vif name " + quoted(text) + " is no device name");
    check(netd::policy::looks_like_vif_name(text), "looks_like_vif_name misses " + quoted(text));
  }
  bool slice_name = !text.empty() && text.size() <= 31 && text[0] >= 'a' && text[0] <= 'z';
  for (char c : text) slice_name = slice_name && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-');
  check(netd::policy::is_valid_slice_name(text) == slice_name, "slice name rule broken for " + quoted(text));
}

void mtu(std::string_view text) {
  auto v = netd::cli::parse_vif_mtu("mtu", text);
  if (v.ok()) check(*v >= 68 && *v <= 65535, "mtu " + quoted(text) + " out of range");
}

void integer(std::string_view text) {
  auto v = netd::parse_uint(text, 0, UINT64_MAX);
  if (!v.ok()) return;
  auto again = netd::parse_uint(std::to_string(*v), 0, UINT64_MAX);
  check(again.ok() && *again == *v, "integer " + quoted(text) + " does not read back");
  auto bounded = netd::parse_uint(text, 1000, 2000);
  check(bounded.ok() == (*v >= 1000 && *v <= 2000), "parse_uint bounds wrong for " + quoted(text));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 10) {
    case 0: address(text); break;
    case 1: prefix(text, AF_INET, false); break;
    case 2: prefix(text, AF_INET6, false); break;
    case 3: prefix(text, AF_INET, true); break;
    case 4: quantity(text, netd::parse_rate_bps, netd::format_rate_bps, "rate"); break;
    case 5: quantity(text, netd::parse_size_bytes, netd::policy::format_size_bytes, "size"); break;
    case 6:
      quantity(text, netd::parse_time_us, [](uint64_t us) { return std::to_string(us) + "us"; }, "time");
      break;
    case 7: integer(text); mtu(text); break;
    case 8: port_range(text); break;
    default: names(text); break;
  }
  return 0;
}
