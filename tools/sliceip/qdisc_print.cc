#include "tools/sliceip/qdisc_print.h"

#include "lib/core/net_types.h"
#include "tools/common/reply.h"

namespace sliceip {

namespace {

using netd::cli::bad_reply;
using netd::cli::field;
using netd::cli::integer_field;
using netd::cli::integer_text;
using netd::cli::string_or;
using nlohmann::json;
using nlohmann::ordered_json;

// The reply's keys, in the order -j prints them.
constexpr const char* kKeys[] = {"dev",   "kind",       "handle",   "rate",    "burst",  "limit", "bytes",
                                 "packets", "drops",    "overlimits", "requeues", "backlog", "qlen"};

// 10240 → "10KiB", 72740 → "72740b" (tc writes bytes with a "b").
std::string size_text(uint64_t bytes) {
  if (bytes != 0 && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + "MiB";
  if (bytes != 0 && bytes % 1024 == 0) return std::to_string(bytes >> 10) + "KiB";
  return std::to_string(bytes) + "b";
}

// " rate 10mbit burst 10KiB limit 72740b" for the values present.
std::string parameters_text(const json& qdisc) {
  std::string text;
  if (const json* rate = integer_field(qdisc, "rate"))
    text += " rate " + netd::format_rate_bps(rate->get<uint64_t>());
  for (const char* key : {"burst", "limit"})
    if (const json* size = integer_field(qdisc, key)) text += std::string(" ") + key + " " + size_text(size->get<uint64_t>());
  return text;
}

}  // namespace

std::string qdisc_text(const json& qdisc) {
  std::string text = "qdisc " + string_or(qdisc, "kind", "?") + " " + string_or(qdisc, "handle", "?") + " dev " +
                     string_or(qdisc, "dev", "?") + " root" + parameters_text(qdisc) + "\n";
  text += " Sent " + integer_text(qdisc, "bytes") + " bytes " + integer_text(qdisc, "packets") + " pkt (dropped " +
          integer_text(qdisc, "drops") + ", overlimits " + integer_text(qdisc, "overlimits") + " requeues " +
          integer_text(qdisc, "requeues") + ")\n";
  text += " backlog " + integer_text(qdisc, "backlog") + "b " + integer_text(qdisc, "qlen") + "p\n";
  return text;
}

ordered_json qdisc_json(const json& qdisc) {
  ordered_json out = ordered_json::object();
  for (const char* key : kKeys)
    if (const json* value = field(qdisc, key)) out[key] = *value;
  return out;
}

netd::Result<std::string> print_qdisc_list(const json&, const json& reply, const GlobalOptions& options) {
  const json* qdiscs = field(reply, "qdiscs");
  if (qdiscs == nullptr || !qdiscs->is_array()) return bad_reply("no 'qdiscs' list");
  if (options.json) {
    ordered_json out = ordered_json::array();
    for (const auto& qdisc : *qdiscs) out.push_back(qdisc_json(qdisc));
    return netd::cli::json_text(out, options);
  }
  std::string text;
  for (const auto& qdisc : *qdiscs) text += qdisc_text(qdisc);
  return text;
}

}  // namespace sliceip
