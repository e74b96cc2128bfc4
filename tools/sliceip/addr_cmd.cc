#include "tools/sliceip/addr_cmd.h"

#include <cerrno>
#include <optional>
#include <string>

#include "lib/core/net_types.h"
#include "tools/sliceip/print.h"
#include "tools/sliceip/vif_print.h"
#include "tools/sliceip/vif_words.h"
#include "tools/sliceip/words.h"

namespace sliceip {

namespace {

using netd::make_error;
using nlohmann::json;

std::string command_name(std::string_view command) { return "address " + std::string(command); }

// What the words of `address add|del` said.
struct AddressWords {
  std::optional<netd::Prefix> address;
  std::optional<netd::IpAddress> peer;
  std::optional<std::string> dev;
};

// Unlike ip, no length is assumed for a bare address (netd needs one): say which one a single
// address would have.
std::string length_hint(std::string_view word) {
  auto address = netd::IpAddress::parse(word);
  if (!address.ok()) return "";
  return " (a single address is " + address->to_string() + "/" +
         std::to_string(address->bit_length()) + ")";
}

netd::Status take_address(std::string_view command, std::string_view word, AddressWords& words) {
  std::string name = command_name(command);
  // Only something address-like gets the address messages; other words are unknown ones.
  if (word.find_first_of(".:") == std::string_view::npos)
    return make_error(EINVAL, unknown_vif_argument(word, name));
  if (words.address)
    return make_error(EINVAL, in_quotes(name) + " takes one ADDR/LEN, got " +
                                  in_quotes(words.address->to_string()) + " and " +
                                  in_quotes(word));
  auto prefix = netd::Prefix::parse_interface(word);
  if (!prefix.ok())
    return make_error(
        EINVAL, in_quotes(name) + " needs ADDR/LEN, got " + in_quotes(word) + length_hint(word));
  words.address = *prefix;
  return netd::ok_status();
}

netd::Status take_peer(std::string_view command, std::span<const std::string_view> args, size_t& i,
                       AddressWords& words) {
  // The kernel finds an address by its local part and length; a peer names nothing more.
  if (command != "add")
    return make_error(EINVAL, "'peer' is not needed: " + in_quotes(command_name(command)) +
                                  " finds the address by ADDR/LEN");
  if (words.peer) return make_error(EINVAL, "'peer' is given twice");
  std::optional<std::string_view> value = value_after(args, i);
  if (!value) return make_error(EINVAL, "'peer' needs an address");
  auto peer = netd::IpAddress::parse(*value);
  if (!peer.ok()) return make_error(EINVAL, "'peer' needs an address, got " + in_quotes(*value));
  words.peer = *peer;
  ++i;
  return netd::ok_status();
}

netd::Result<AddressWords> read_address_words(std::string_view command,
                                              std::span<const std::string_view> args) {
  AddressWords words;
  std::string name = command_name(command);
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "dev") {
      NETD_TRY(take_device(name, args, i, words.dev));
    } else if (args[i] == "peer") {
      NETD_TRY(take_peer(command, args, i, words));
    } else {
      NETD_TRY(take_address(command, args[i], words));
    }
  }
  if (!words.address) return make_error(EINVAL, in_quotes(name) + " needs ADDR/LEN");
  if (!words.dev) return make_error(EINVAL, in_quotes(name) + " needs 'dev VIF'");
  return words;
}

netd::Status check_families(const AddressWords& words, const GlobalOptions& options) {
  int family = words.address->family();
  if (options.family != AF_UNSPEC && family != options.family)
    return make_error(EINVAL, in_quotes(words.address->to_string()) + " is not an " +
                                  std::string(family_label(options.family)) + " address (" +
                                  std::string(family_option(options.family)) + " was given)");
  if (words.peer && words.peer->family() != family)
    return make_error(EINVAL, "'peer " + words.peer->to_string() + "' is " +
                                  std::string(family_label(words.peer->family())) + " but " +
                                  in_quotes(words.address->to_string()) + " is " +
                                  std::string(family_label(family)));
  return netd::ok_status();
}

}  // namespace

netd::Result<Plan> parse_addr_change(std::string_view command,
                                     std::span<const std::string_view> args,
                                     const GlobalOptions& options) {
  NETD_ASSIGN_OR_RETURN(AddressWords words, read_address_words(command, args));
  NETD_TRY(check_families(words, options));
  if (command != "add")
    return Plan::call("io.netd.Vifs.DeleteAddress",
                      {{"name", *words.dev}, {"address", words.address->to_string()}},
                      print_nothing);
  json address = {{"address", words.address->to_string()}};
  if (words.peer) address["peer"] = words.peer->to_string();
  return Plan::call("io.netd.Vifs.AddAddress", {{"name", *words.dev}, {"address", address}},
                    print_nothing);
}

netd::Result<Plan> parse_addr_show(std::string_view command, std::span<const std::string_view> args,
                                   const GlobalOptions&) {
  std::optional<std::string> dev;
  for (size_t i = 0; i < args.size(); ++i)
    NETD_TRY(take_device(command_name(command), args, i, dev));
  json parameters = json::object();
  if (dev) parameters["name"] = *dev;
  return Plan::call("io.netd.Vifs.List", std::move(parameters), print_addr_show);
}

}  // namespace sliceip
