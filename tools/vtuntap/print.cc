#include "tools/vtuntap/print.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <vector>

#include "tools/vtuntap/words.h"

namespace vtuntap {

namespace {

using netd::make_error;
using nlohmann::json;

constexpr int kIndent = 4;  // as sliceip -p and ip -p

std::string dump(const json& value, const GlobalOptions& options) {
  return value.dump(options.pretty ? kIndent : -1) + "\n";
}

netd::Error bad_reply(std::string_view what) {
  return make_error(EPROTO, "unexpected reply from netd: " + std::string(what));
}

std::string string_or(const json& object, const char* key, std::string fallback) {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

bool flag_of(const json& object, const char* key) {
  if (!object.is_object()) return false;
  auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

std::string integer_text(const json& object, const char* key) {
  if (!object.is_object()) return "?";
  auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->dump() : "?";
}

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
  if (options.json) return dump(*vif, options);
  NETD_ASSIGN_OR_RETURN(std::string name, vif_name_of(reply));
  return name + "\n";
}

netd::Result<std::string> print_attached(const json& reply, const GlobalOptions& options) {
  NETD_ASSIGN_OR_RETURN(const json* vif, vif_of(reply));
  json vifs = json::array({*vif});
  return options.json ? dump(vifs, options) : vif_table(vifs);
}

netd::Result<std::string> print_list(const json& reply, const GlobalOptions& options) {
  if (!reply.is_object() || !reply.contains("vifs") || !reply["vifs"].is_array())
    return bad_reply("no 'vifs' list");
  return options.json ? dump(reply["vifs"], options) : vif_table(reply["vifs"]);
}

netd::Result<std::string> print_nothing(const json&, const GlobalOptions&) { return std::string(); }

ErrorReport describe_error(std::string_view error_name, const json& parameters) {
  std::string reason = string_or(parameters, "reason", "");
  // Per io.netd.varlink; NotMember/InvalidArgument are the caller's mistake, as a syntax
  // error is (exit 1); the others are refusals or failures (exit 2).
  struct Mapping {
    std::string_view name;
    int exit_code;
  };
  static constexpr Mapping kMappings[] = {
      {"io.netd.NotMember", 1},        {"io.netd.InvalidArgument", 1},
      {"io.netd.PermissionDenied", 2}, {"io.netd.ResourceExhausted", 2},
      {"io.netd.NotFound", 2},         {"io.netd.Conflict", 2},
      {"io.netd.KernelError", 2},
  };
  for (const auto& mapping : kMappings)
    if (mapping.name == error_name)
      return {mapping.exit_code, "vtuntap: " + (reason.empty() ? std::string(error_name) : reason)};
  // Anything else (org.varlink.service.*, a newer netd's error): name it, it is a failure.
  std::string message = "vtuntap: netd answered " + std::string(error_name);
  if (!reason.empty()) message += ": " + reason;
  return {2, message};
}

}  // namespace vtuntap
