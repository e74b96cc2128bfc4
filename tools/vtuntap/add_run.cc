#include "tools/vtuntap/add_run.h"

#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>

#include "lib/core/net_types.h"
#include "tools/vtuntap/print.h"
#include "tools/vtuntap/words.h"

namespace vtuntap {

namespace {

using netd::make_error;
using nlohmann::json;

// What the words of add/run said, before the rules that differ between the two.
struct DeviceWords {
  std::optional<std::string> kind;
  json addresses = json::array();
  std::optional<netd::Prefix> last_address;  // the --addr a --peer belongs to
  bool last_address_has_peer = false;
  std::optional<uint64_t> mtu;
  bool up = false;
  bool persist = false;
  bool multi_queue = false;
};

std::string_view family_label(int family) { return family == AF_INET6 ? "IPv6" : "IPv4"; }

netd::Status take_address(DeviceWords& device, std::string_view value) {
  auto prefix = netd::Prefix::parse_interface(value);
  if (!prefix.ok()) {
    // A bare address gets no assumed length (netd needs one): say what a single one would be.
    auto address = netd::IpAddress::parse(value);
    std::string hint = address.ok() ? " (a single address is " + address->to_string() + "/" +
                                          std::to_string(address->bit_length()) + ")"
                                    : "";
    return make_error(EINVAL, "'--addr' needs ADDR/LEN, got " + in_quotes(value) + hint);
  }
  device.addresses.push_back({{"address", prefix->to_string()}});
  device.last_address = *prefix;
  device.last_address_has_peer = false;
  return netd::ok_status();
}

netd::Status take_peer(DeviceWords& device, std::string_view value) {
  if (!device.last_address)
    return make_error(EINVAL, "'--peer' belongs to an '--addr' given before it");
  std::string address_text = device.last_address->to_string();
  if (device.last_address_has_peer)
    return make_error(EINVAL, "'--addr " + address_text + "' has two '--peer's");
  auto peer = netd::IpAddress::parse(value);
  if (!peer.ok()) return make_error(EINVAL, "'--peer' needs an address, got " + in_quotes(value));
  if (peer->family() != device.last_address->family())
    return make_error(EINVAL, "'--peer " + peer->to_string() + "' is " +
                                  std::string(family_label(peer->family())) + " but '--addr " +
                                  address_text + "' is " +
                                  std::string(family_label(device.last_address->family())));
  device.addresses.back()["peer"] = peer->to_string();
  device.last_address_has_peer = true;
  return netd::ok_status();
}

netd::Status take_mtu(DeviceWords& device, std::string_view value) {
  if (device.mtu) return make_error(EINVAL, "'--mtu' is given twice");
  NETD_ASSIGN_OR_RETURN(uint64_t mtu, netd::cli::parse_vif_mtu("--mtu", value));
  device.mtu = mtu;
  return netd::ok_status();
}

netd::Status take_kind(DeviceWords& device, std::string_view command, std::string_view word) {
  bool is_kind = word == "tun" || word == "tap";
  if (device.kind && is_kind)
    return make_error(EINVAL, in_quotes(command) + " takes one kind, got " +
                                  in_quotes(*device.kind) + " and " + in_quotes(word));
  if (device.kind)
    return make_error(EINVAL, "unknown argument " + in_quotes(word) + " for " + in_quotes(command));
  if (!is_kind) return make_error(EINVAL, "unknown kind " + in_quotes(word) + ": tun or tap");
  device.kind = std::string(word);
  return netd::ok_status();
}

// Options that take a value, as "--addr X" or "--addr=X".
struct ValueOption {
  std::string_view word;
  netd::Status (*take)(DeviceWords&, std::string_view value);
  std::string_view needs;  // for "'--mtu' needs a number"
};

constexpr ValueOption kValueOptions[] = {
    {"--addr", take_address, "ADDR/LEN"},
    {"--peer", take_peer, "an address"},
    {"--mtu", take_mtu, "a number 68..65535"},
};

struct FlagOption {
  std::string_view word;
  bool DeviceWords::*flag;
};

constexpr FlagOption kFlagOptions[] = {
    {"--up", &DeviceWords::up},
    {"--persist", &DeviceWords::persist},
    {"--multi-queue", &DeviceWords::multi_queue},
};

// Handles one option word (and its value) at args[i]; advances i past a separate value.
netd::Status take_option(DeviceWords& device, std::string_view command,
                         std::span<const std::string_view> args, size_t& i) {
  std::string_view word = args[i];
  if (const FlagOption* option = netd::cli::find_keyword(kFlagOptions, word)) {
    device.*option->flag = true;
    return netd::ok_status();
  }
  for (const auto& option : kValueOptions) {
    if (word == option.word) {
      if (i + 1 >= args.size())
        return make_error(EINVAL, in_quotes(word) + " needs " + std::string(option.needs));
      return option.take(device, args[++i]);
    }
    if (word.size() > option.word.size() && word.starts_with(option.word) &&
        word[option.word.size()] == '=')
      return option.take(device, word.substr(option.word.size() + 1));
  }
  return make_error(EINVAL, unknown_option(word, command));
}

netd::Result<DeviceWords> read_device_words(std::string_view command,
                                            std::span<const std::string_view> args) {
  DeviceWords device;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].size() > 1 && args[i][0] == '-')
      NETD_TRY(take_option(device, command, args, i));
    else
      NETD_TRY(take_kind(device, command, args[i]));
  }
  if (!device.kind) return make_error(EINVAL, in_quotes(command) + " needs a kind: tun or tap");
  return device;
}

// The io.netd.Vifs.Add parameters; options not given are absent (netd's defaults apply).
json add_parameters(const DeviceWords& device) {
  json parameters = {{"kind", *device.kind}};
  if (!device.addresses.empty()) parameters["addresses"] = device.addresses;
  if (device.mtu) parameters["mtu"] = *device.mtu;
  if (device.up) parameters["up"] = true;
  if (device.persist) parameters["persist"] = true;
  if (device.multi_queue) parameters["multi_queue"] = true;
  return parameters;
}

}  // namespace

netd::Result<Plan> parse_add(std::string_view command, std::span<const std::string_view> args,
                             const GlobalOptions&) {
  SplitWords split = split_at_double_dash(args);
  if (split.program)
    return make_error(EINVAL,
                      "'add' starts no program: use 'vtuntap run ... -- CMD' to hand a "
                      "new device to a program, or 'vtuntap attach NAME -- CMD'");
  NETD_ASSIGN_OR_RETURN(DeviceWords device, read_device_words(command, split.own));
  // Without persist the device dies with its last fd, which is vtuntap's: it would be gone
  // before anyone could use it.
  if (!device.persist)
    return make_error(EINVAL,
                      "a device added without '--persist' would vanish when vtuntap exits: add "
                      "'--persist', or use 'vtuntap run " +
                          *device.kind + " ... -- CMD' to hand it to a program");
  return Plan::call("io.netd.Vifs.Add", add_parameters(device), print_added);
}

netd::Result<Plan> parse_run(std::string_view command, std::span<const std::string_view> args,
                             const GlobalOptions&) {
  SplitWords split = split_at_double_dash(args);
  NETD_ASSIGN_OR_RETURN(DeviceWords device, read_device_words(command, split.own));
  if (device.persist)
    return make_error(EINVAL,
                      "'run' makes a device that lives as long as the program holds it, "
                      "so it takes no '--persist': use 'vtuntap add --persist' and "
                      "'vtuntap attach NAME -- CMD'");
  if (!split.program)
    return make_error(EINVAL,
                      "'run' needs '-- CMD [ARGS]': the program that gets the device as fd 3");
  if (split.program->empty()) return make_error(EINVAL, "'run' needs a program after '--'");
  return Plan::exec("io.netd.Vifs.Add", add_parameters(device), std::move(*split.program));
}

}  // namespace vtuntap
