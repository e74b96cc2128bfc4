#include "tools/sliceip/vif_print.h"

#include <sys/socket.h>

#include <optional>
#include <vector>

#include "lib/core/net_types.h"
#include "tools/common/reply.h"

namespace sliceip {

namespace {

using netd::cli::bad_reply;
using netd::cli::field;
using netd::cli::flag_of;
using netd::cli::integer_text;
using netd::cli::string_or;
using nlohmann::json;
using nlohmann::ordered_json;

// ip's interface flags that netd reports: administratively UP, and PROMISC.
std::vector<std::string> flag_words(const json& vif) {
  std::vector<std::string> flags;
  if (flag_of(vif, "up")) flags.push_back("UP");
  if (flag_of(vif, "promisc")) flags.push_back("PROMISC");
  return flags;
}

// One io.netd.Vifs.Address split as ip shows it: local address, peer, prefix length.
struct AddressParts {
  int family = AF_UNSPEC;
  std::string local;
  std::string peer;  // empty: none
  int length = 0;
};

std::optional<AddressParts> address_parts(const json& address) {
  auto prefix = netd::Prefix::parse_interface(string_or(address, "address", ""));
  if (!prefix.ok()) return std::nullopt;
  return AddressParts{prefix->family(), prefix->address().to_string(),
                      string_or(address, "peer", ""), prefix->length()};
}

// The vif's addresses that parse, of `family` (AF_UNSPEC: all).
std::vector<AddressParts> addresses_of(const json& vif, int family) {
  std::vector<AddressParts> parts;
  const json* addresses = field(vif, "addresses");
  if (addresses == nullptr || !addresses->is_array()) return parts;
  for (const auto& address : *addresses) {
    auto part = address_parts(address);
    if (part && (family == AF_UNSPEC || part->family == family)) parts.push_back(*part);
  }
  return parts;
}

std::string family_word(int family) { return family == AF_INET6 ? "inet6" : "inet"; }

// "inet 10.7.0.1 peer 10.7.0.2/30" or "inet6 fd00:7::1/64", as ip prints them.
std::string address_text(const AddressParts& part) {
  std::string text = family_word(part.family) + " " + part.local;
  if (!part.peer.empty()) text += " peer " + part.peer;
  return text + "/" + std::to_string(part.length);
}

std::string on_off(const json& vif, const char* key) { return flag_of(vif, key) ? "on" : "off"; }

netd::Result<const json*> vifs_of(const json& reply) {
  const json* vifs = field(reply, "vifs");
  if (vifs == nullptr || !vifs->is_array()) return bad_reply("no 'vifs' list");
  return vifs;
}

netd::Result<std::string> print_vifs(const json& reply, const GlobalOptions& options,
                                     bool with_addresses) {
  NETD_ASSIGN_OR_RETURN(const json* vifs, vifs_of(reply));
  // ip -4/-6 address show leaves out devices without an address of that family.
  int family = with_addresses ? options.family : AF_UNSPEC;
  auto shown = [&](const json& vif) {
    return family == AF_UNSPEC || !addresses_of(vif, family).empty();
  };
  if (options.json) {
    ordered_json out = ordered_json::array();
    for (const auto& vif : *vifs)
      if (shown(vif)) out.push_back(vif_json(vif, with_addresses, family));
    return netd::cli::json_text(out, options);
  }
  std::string text;
  for (const auto& vif : *vifs)
    if (shown(vif)) text += vif_text(vif, with_addresses, family);
  return text;
}

}  // namespace

std::string vif_text(const json& vif, bool with_addresses, int family) {
  std::string flags;
  for (const auto& flag : flag_words(vif)) flags += (flags.empty() ? "" : ",") + flag;
  std::string text = integer_text(vif, "ifindex") + ": " + string_or(vif, "name", "?") + ": <" +
                     flags + "> mtu " + integer_text(vif, "mtu") + "\n";
  text += "    kind " + string_or(vif, "kind", "?") + " owner " + integer_text(vif, "owner") +
          " persist " + on_off(vif, "persist") + " multi_queue " + on_off(vif, "multi_queue") +
          "\n";
  if (with_addresses)
    for (const auto& part : addresses_of(vif, family)) text += "    " + address_text(part) + "\n";
  return text;
}

ordered_json vif_json(const json& vif, bool with_addresses, int family) {
  ordered_json out = ordered_json::object();
  auto copy = [&](const char* from, const char* to) {
    if (const json* value = field(vif, from)) out[to] = *value;
  };
  copy("ifindex", "ifindex");
  copy("name", "ifname");
  out["flags"] = flag_words(vif);
  copy("mtu", "mtu");
  copy("kind", "kind");
  copy("owner", "owner");
  copy("persist", "persist");
  copy("multi_queue", "multi_queue");
  if (!with_addresses) return out;
  ordered_json addr_info = ordered_json::array();
  for (const auto& part : addresses_of(vif, family)) {
    ordered_json address = {{"family", family_word(part.family)}, {"local", part.local}};
    if (!part.peer.empty()) address["address"] = part.peer;  // ip's key for the peer
    address["prefixlen"] = part.length;
    addr_info.push_back(std::move(address));
  }
  out["addr_info"] = std::move(addr_info);
  return out;
}

netd::Result<std::string> print_addr_show(const json&, const json& reply,
                                          const GlobalOptions& options) {
  return print_vifs(reply, options, true);
}

netd::Result<std::string> print_link_show(const json&, const json& reply,
                                          const GlobalOptions& options) {
  return print_vifs(reply, options, false);
}

}  // namespace sliceip
