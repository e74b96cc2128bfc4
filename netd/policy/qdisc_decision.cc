#include "netd/policy/qdisc_decision.h"

#include <cstdio>
#include <utility>

#include "lib/core/errors.h"
#include "lib/core/net_types.h"
#include "netd/policy/validate.h"

namespace netd::policy {

namespace {

constexpr uint32_t kEthernetHeader = 14;

std::string size_text(uint64_t bytes) { return format_size_bytes(bytes) + (bytes % 1024 == 0 ? "" : " bytes"); }

std::string time_text(uint64_t us) {
  char buf[32];
  if (us >= 1'000'000) snprintf(buf, sizeof buf, "%.3gs", static_cast<double>(us) / 1e6);
  else if (us >= 1'000) snprintf(buf, sizeof buf, "%.3gms", static_cast<double>(us) / 1e3);
  else snprintf(buf, sizeof buf, "%lluus", static_cast<unsigned long long>(us));
  return buf;
}

// The biggest packet the device hands its qdisc, as the qdisc counts it.
uint64_t frame_bytes(const QdiscDevice& device) { return uint64_t{device.mtu} + (device.tap ? kEthernetHeader : 0); }

std::string frame_text(const QdiscDevice& device) {
  return std::to_string(frame_bytes(device)) + " bytes, one full packet of " + device.name + " (mtu " +
         std::to_string(device.mtu) + (device.tap ? " + Ethernet header" : "") + ")";
}

Result<uint64_t> check_rate(const std::optional<uint64_t>& rate, const char* kind) {
  if (!rate) return invalid(std::string(kind) + " needs a rate");
  if (*rate < kMinQdiscRateBps || *rate > kMaxQdiscRateBps)
    return invalid("rate " + format_rate_bps(*rate) + " is outside " + format_rate_bps(kMinQdiscRateBps) + ".." +
                   format_rate_bps(kMaxQdiscRateBps));
  return *rate;
}

// A queue (limit) holds at least one full packet (else everything is dropped) and at most
// kMaxQdiscQueueBytes. `what` says where the number came from.
Status check_queue(uint64_t limit, const std::string& what, const QdiscDevice& device) {
  if (limit < frame_bytes(device)) return invalid(what + " is less than " + frame_text(device));
  if (limit > kMaxQdiscQueueBytes)
    return invalid(what + " is more than " + format_size_bytes(kMaxQdiscQueueBytes) + ", netd's most for a vif's queue");
  return ok_status();
}

Result<QdiscPlan> decide_tbf(const QdiscRequest& r, const QdiscDevice& device) {
  NETD_ASSIGN_OR_RETURN(uint64_t rate, check_rate(r.rate_bps, "tbf"));
  if (!r.burst_bytes) return invalid("tbf needs a burst (bytes the bucket holds)");
  uint64_t burst = *r.burst_bytes;
  if (burst < frame_bytes(device))
    return invalid("burst " + size_text(burst) + " is less than " + frame_text(device) +
                   ": TBF would drop every packet bigger than the bucket");
  // In long double: burst × 8e9 overflows 64 bits from 2 GiB on.
  long double bucket_ns = static_cast<long double>(burst) * 8e9L / static_cast<long double>(rate);
  if (bucket_ns > static_cast<long double>(kMaxTbfBucketNs)) {
    char seconds[32];
    snprintf(seconds, sizeof seconds, "%.3Lg", bucket_ns / 1e9L);
    return invalid("burst " + size_text(burst) + " lasts " + seconds + " s at rate " + format_rate_bps(rate) +
                   "; the kernel's TBF bucket holds at most 4.29 s of the rate (lower burst or raise rate)");
  }
  if (r.latency_us && r.limit_bytes) return invalid("latency and limit exclude each other (tbf takes one)");
  if (!r.latency_us && !r.limit_bytes) return invalid("tbf needs latency or limit (how long packets may queue)");
  uint64_t limit = 0;
  if (r.limit_bytes) {
    limit = *r.limit_bytes;
    NETD_TRY(check_queue(limit, "limit " + size_text(limit), device));
  } else {
    uint64_t latency = *r.latency_us;
    if (latency < kMinTbfLatencyUs || latency > kMaxTbfLatencyUs)
      return invalid("latency " + time_text(latency) + " is outside " + time_text(kMinTbfLatencyUs) + ".." +
                     time_text(kMaxTbfLatencyUs));
    // tc-tbf(8): limit = rate × latency + burst. Both factors are bounded above: no overflow.
    limit = rate / 8 * latency / 1'000'000 + burst;
    NETD_TRY(check_queue(limit, "latency " + time_text(latency) + " at rate " + format_rate_bps(rate) +
                                    " makes a queue (limit) of " + size_text(limit) + ", which",
                         device));
  }
  QdiscPlan plan;
  plan.kind = QdiscKind::kTbf;
  plan.rate_bps = rate;
  plan.burst_bytes = static_cast<uint32_t>(burst);
  plan.limit_bytes = static_cast<uint32_t>(limit);
  return plan;
}

Result<QdiscPlan> decide_htb(const QdiscRequest& r) {
  for (auto [given, field] : {std::pair{r.burst_bytes.has_value(), "burst"}, {r.latency_us.has_value(), "latency"},
                               {r.limit_bytes.has_value(), "limit"}}) {
    if (given) return invalid(std::string(field) + " is not a parameter of htb, which takes only a rate (netd sizes "
                              "its buffers)");
  }
  NETD_ASSIGN_OR_RETURN(uint64_t rate, check_rate(r.rate_bps, "htb"));
  QdiscPlan plan;
  plan.kind = QdiscKind::kHtb;
  plan.rate_bps = rate;
  return plan;
}

}  // namespace

const char* qdisc_kind_name(QdiscKind kind) { return kind == QdiscKind::kHtb ? "htb" : "tbf"; }

Result<QdiscKind> parse_qdisc_kind(std::string_view word) {
  if (word == "tbf") return QdiscKind::kTbf;
  if (word == "htb") return QdiscKind::kHtb;
  return invalid("qdisc kind '" + echoed(word) + "' is not offered: a slice's vif takes tbf or htb");
}

Result<QdiscPlan> decide_vif_qdisc(const QdiscRequest& request, const QdiscDevice& device) {
  return request.kind == QdiscKind::kHtb ? decide_htb(request) : decide_tbf(request, device);
}

}  // namespace netd::policy
