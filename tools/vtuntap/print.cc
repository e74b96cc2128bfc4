#include "tools/vtuntap/print.h"

#include <algorithm>
#include <array>
#include <vector>

#include "tools/common/reply.h"
#include "tools/vtuntap/words.h"

namespace vtuntap {

namespace {

using netd::cli::bad_reply;
using netd::cli::flag_of;
using netd::cli::integer_text;
using netd::cli::json_text;
using netd::cli::string_or;
using nlohmann::json;

// "persist,multi_queue" (the IDL's words), or "-" when none is set.
std::string flags_text(const json& vif) {
  std::string text;
  for (const char* flag : {"persist", "multi_queue", "promisc"}) {
    if (!flag_of(vif, flag)) continue;
    if (!text.empty()) text += ',';
    text += flag;
  }
  return text.empty() ? "-" : text;
}

// "10.7.0.1/30 peer 10.7.0.2 fd00:7::1/64", as ip words a point-to-point address.
std::string addresses_text(const json& vif) {
  std::string text;
  if (!vif.is_object() || !vif.contains("addresses") || !vif["addresses"].is_array()) return text;
  for (const auto& address : vif["addresses"]) {
    if (!text.empty()) text += ' ';
    text += string_or(address, "address", "?");
    std::string peer = string_or(address, "peer", "");
    if (!peer.empty()) text += " peer " + peer;
  }
  return text;
}

constexpr size_t kColumns = 6;
using Row = std::array<std::string, kColumns>;

Row vif_row(const json& vif) {
  return {string_or(vif, "name", "?"),
          string_or(vif, "kind", "?"),
          flag_of(vif, "up") ? "UP" : "DOWN",
          integer_text(vif, "mtu"),
          flags_text(vif),
          addresses_text(vif)};
}

// Columns padded to their widest cell plus two spaces; the last one unpadded and no
// trailing blanks (a device without addresses ends at its flags).
std::string format_rows(const std::vector<Row>& rows) {
  std::array<size_t, kColumns> width{};
  for (const Row& row : rows)
    for (size_t c = 0; c < kColumns; ++c) width[c] = std::max(width[c], row[c].size());
  std::string text;
  for (const Row& row : rows) {
    std::string line;
    for (size_t c = 0; c < kColumns; ++c) {
      line += row[c];
      if (c + 1 < kColumns) line += std::string(width[c] - row[c].size() + 2, ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);
    text += line + "\n";
  }
  return text;
}

netd::Result<const json*> vif_of(const json& reply) {
  if (!reply.is_object() || !reply.contains("vif") || !reply["vif"].is_object())
    return bad_reply("no 'vif'");
  return &reply["vif"];
}

}  // namespace

std::string vif_table(const json& vifs) {
  if (!vifs.is_array() || vifs.empty()) return "";
  std::vector<Row> rows = {{"NAME", "KIND", "STATE", "MTU", "FLAGS", "ADDRESSES"}};
  for (const auto& vif : vifs) rows.push_back(vif_row(vif));
  return format_rows(rows);
}

netd::Result<std::string> vif_name_of(const json& reply) {
  NETD_ASSIGN_OR_RETURN(const json* vif, vif_of(reply));
  std::string name = string_or(*vif, "name", "");
  if (!is_valid_ifname(name)) return bad_reply("no valid device name");
  return name;
}

netd::Result<std::string> print_added(const json& reply, const GlobalOptions& options) {
  NETD_ASSIGN_OR_RETURN(const json* vif, vif_of(reply));
  if (options.json) return json_text(*vif, options);
  NETD_ASSIGN_OR_RETURN(std::string name, vif_name_of(reply));
  return name + "\n";
}

netd::Result<std::string> print_attached(const json& reply, const GlobalOptions& options) {
  NETD_ASSIGN_OR_RETURN(const json* vif, vif_of(reply));
  json vifs = json::array({*vif});
  return options.json ? json_text(vifs, options) : vif_table(vifs);
}

netd::Result<std::string> print_list(const json& reply, const GlobalOptions& options) {
  if (!reply.is_object() || !reply.contains("vifs") || !reply["vifs"].is_array())
    return bad_reply("no 'vifs' list");
  return options.json ? json_text(reply["vifs"], options) : vif_table(reply["vifs"]);
}

netd::Result<std::string> print_nothing(const json&, const GlobalOptions&) { return std::string(); }

ErrorReport describe_error(std::string_view error_name, const json& parameters) {
  return netd::cli::describe_error("vtuntap", netd::cli::ErrorLabels::kNone, error_name,
                                   parameters);
}

}  // namespace vtuntap
