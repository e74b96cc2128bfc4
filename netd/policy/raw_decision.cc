#include "netd/policy/raw_decision.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>

#include "lib/core/errors.h"
#include "lib/core/net_types.h"
#include "netd/policy/vif_decision.h"

namespace netd::policy {

namespace {

// As the policy file writes it: raw = ["icmp", "udp"].
std::string policy_raw_list(const SliceSpec& slice) {
  std::string out;
  for (const auto& kind : slice.raw) out += (out.empty() ? "\"" : ", \"") + kind + "\"";
  return "[" + out + "]";
}

std::string uplink_list(const Policy& policy) {
  std::string out;
  for (const auto& dev : policy.netd.uplinks) out += (out.empty() ? "" : ", ") + dev;
  return out.empty() ? "none" : out;
}

struct KindInfo {
  RawKind kind;
  const char* name;
  int protocol;   // IPPROTO_*, 0 for packet
  int family;     // AF_INET / AF_INET6 when the kind belongs to one family, else AF_UNSPEC
};

constexpr KindInfo kKinds[] = {
    {RawKind::kIcmp, "icmp", IPPROTO_ICMP, AF_INET},
    {RawKind::kIcmpv6, "icmpv6", IPPROTO_ICMPV6, AF_INET6},
    {RawKind::kUdp, "udp", IPPROTO_UDP, AF_UNSPEC},
    {RawKind::kTcp, "tcp", IPPROTO_TCP, AF_UNSPEC},
    {RawKind::kPacket, "packet", 0, AF_UNSPEC},
};

const KindInfo& info_of(RawKind kind) { return kKinds[static_cast<size_t>(kind)]; }

const char* family_word(int family) { return family == AF_INET6 ? "inet6" : "inet"; }

// The request's device name, as the kernel takes names.
Status check_ifname_field(std::string_view name) {
  if (Status st = check_ifname(name); !st.ok()) return std::move(st).error().with_context("ifname");
  return ok_status();
}

Status require_kind(const SliceSpec& slice, RawKind kind) {
  if (slice_allows_raw(slice, kind)) return ok_status();
  return refused(std::string(kind == RawKind::kPacket ? "packet" : "raw " + std::string(raw_kind_name(kind))) +
                 " sockets are not allowed for slice " + slice.name + " (policy raw = " + policy_raw_list(slice) +
                 ")");
}

Status require_monitor(const SliceSpec& slice) {
  if (slice.capture_all) return ok_status();
  return refused("slice " + slice.name + " is not a monitor (capture_all = false)");
}

// IPPROTO_RAW: a send-only socket whose packets carry their own IP header (IP_HDRINCL /
// IPV6_HDRINCL implied), so it can send any IP protocol. Handed out only to a slice that holds
// every raw IP kind of the family: a policy granting only some kinds must not read as "and any
// protocol by way of 255" where netd decides. (The kernel lets the holder of a raw socket of any
// kind set IP_HDRINCL, with which it sends any protocol too: nothing checks a header-include
// packet's protocol against the socket's.) The send fences are those of any raw IP socket with
// IP_HDRINCL: source addresses (nft raw_source) and other users' ports (flow_record).
Result<RawSocketVerdict> decide_header_include(const Policy& policy, const SliceSpec& slice, int domain) {
  const RawKind icmp = domain == AF_INET6 ? RawKind::kIcmpv6 : RawKind::kIcmp;
  std::string missing;
  for (RawKind kind : {icmp, RawKind::kUdp, RawKind::kTcp})
    if (!slice_allows_raw(slice, kind)) missing += (missing.empty() ? "" : ", ") + std::string(raw_kind_name(kind));
  if (!missing.empty())
    return refused("raw sockets of protocol 255 (IPPROTO_RAW: header-include, any IP protocol) need every raw " +
                   std::string(family_word(domain)) + " kind (" + raw_kind_name(icmp) +
                   ", udp, tcp); slice " + slice.name + " lacks " + missing + " (policy raw = " +
                   policy_raw_list(slice) + ")");
  return RawSocketVerdict{std::nullopt, domain, IPPROTO_RAW, raw_socket_mark(policy, slice)};
}

}  // namespace

const char* raw_kind_name(RawKind kind) { return info_of(kind).name; }

bool slice_allows_raw(const SliceSpec& slice, RawKind kind) {
  return std::find(slice.raw.begin(), slice.raw.end(), raw_kind_name(kind)) != slice.raw.end();
}

uint32_t raw_socket_mark(const Policy& policy, const SliceSpec& slice) {
  return policy.mark_of(slice) | policy.netd.raw_flag;
}

int raw_kind_protocol(RawKind kind) { return info_of(kind).protocol; }

Result<RawSocketVerdict> decide_raw_socket(const Policy& policy, const SliceSpec& slice,
                                           const RawSocketRequest& request) {
  if (request.protocol == IPPROTO_RAW) return decide_header_include(policy, slice, request.domain);
  const KindInfo* kind = nullptr;
  for (const auto& k : kKinds)
    if (k.kind != RawKind::kPacket && k.protocol == request.protocol) kind = &k;
  if (kind == nullptr)
    return refused("raw sockets of protocol " + std::to_string(request.protocol) +
                   " are not handed out (only icmp, icmpv6, udp and tcp)");
  if (kind->family != AF_UNSPEC && kind->family != request.domain)
    return invalid(std::string(kind->name) + " goes with family " + family_word(kind->family) + ", not " +
                   family_word(request.domain) + (kind->kind == RawKind::kIcmp ? " (use icmpv6)" : " (use icmp)"));
  NETD_TRY(require_kind(slice, kind->kind));
  return RawSocketVerdict{kind->kind, request.domain, kind->protocol, raw_socket_mark(policy, slice)};
}

Result<PacketSocketVerdict> decide_packet_socket(const Policy& policy, const SliceSpec& slice,
                                                 std::optional<int64_t> ethertype,
                                                 std::optional<std::string_view> ifname,
                                                 const RawDeviceFacts& device) {
  NETD_TRY(require_kind(slice, RawKind::kPacket));
  PacketSocketVerdict verdict;
  verdict.mark = raw_socket_mark(policy, slice);
  if (ethertype) {
    // 0 is socket(2)'s own meaning: nothing is received until a bind() names a protocol (libpcap
    // opens its sockets so, then binds).
    if (*ethertype < 0 || *ethertype > 0xffff)
      return invalid("protocol " + std::to_string(*ethertype) +
                     " is not an ethertype 0..65535 (host byte order; 3 = ETH_P_ALL, 0 = nothing until bind())");
    verdict.ethertype = static_cast<uint16_t>(*ethertype);
  }
  if (!ifname) return verdict;

  NETD_TRY(check_ifname_field(*ifname));
  const std::string name(*ifname);
  if (!device.exists) return not_found("no device " + name, ENODEV);
  // The registry says whose vif it is; netd's naming says so too (tun<id>-<n>), which also covers a
  // vif the registry has not adopted yet.
  auto vif_name = parse_vif_name(name);
  if ((device.vif && device.vif_slice_id != slice.id) || (vif_name && vif_name->slice_id != slice.id))
    return refused(name + " is a vif of another slice; slice " + slice.name + " may bind packet sockets to its " +
                   "own vifs (tun" + std::to_string(slice.id) + "-<n>, tap" + std::to_string(slice.id) +
                   "-<n>) and to devices that are no slice's");
  verdict.ifname = name;
  verdict.ifindex = device.ifindex;
  return verdict;
}

Result<CaptureVerdict> decide_capture(const Policy& policy, const SliceSpec& slice, std::string_view ifname) {
  NETD_TRY(require_monitor(slice));
  NETD_TRY(check_ifname_field(ifname));
  const auto& uplinks = policy.netd.uplinks;
  if (std::find(uplinks.begin(), uplinks.end(), ifname) == uplinks.end())
    return refused(std::string(ifname) + " is not an uplink: monitors capture on the uplinks only ([netd] uplinks: " +
                   uplink_list(policy) + ")");
  return CaptureVerdict{std::string(ifname), raw_socket_mark(policy, slice)};
}

uint32_t flowlog_group_of(const Policy& policy, const SliceSpec& slice) {
  return policy.netd.flowlog_group + slice.id;
}

Result<FlowLogVerdict> decide_flowlog(const Policy& policy, const SliceSpec& slice) {
  NETD_TRY(require_monitor(slice));
  uint32_t group = flowlog_group_of(policy, slice);
  // Validation keeps monitors' groups 16-bit; this guards an unvalidated Policy.
  if (group > 0xffff)
    return make_error(ERANGE, "flow log group " + std::to_string(group) + " of slice " + slice.name +
                                  " is above 65535 (lower [netd] flowlog_group)");
  FlowLogVerdict verdict{static_cast<uint16_t>(group), policy.netd.mark_mask, policy.mark_shift(), {}};
  for (const SliceSpec& s : policy.slices) verdict.slices.push_back({s.id, s.name});
  return verdict;
}

bool raw_rights_cut(const SliceSpec& before, const SliceSpec& after) {
  if (before.capture_all && !after.capture_all) return true;
  return std::any_of(before.raw.begin(), before.raw.end(), [&](const std::string& kind) {
    return std::find(after.raw.begin(), after.raw.end(), kind) == after.raw.end();
  });
}

}  // namespace netd::policy
