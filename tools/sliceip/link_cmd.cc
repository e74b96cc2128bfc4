#include "tools/sliceip/link_cmd.h"

#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>

#include "tools/sliceip/print.h"
#include "tools/sliceip/vif_print.h"
#include "tools/sliceip/vif_words.h"
#include "tools/sliceip/words.h"

namespace sliceip {

namespace {

using netd::make_error;
using nlohmann::json;

// Settings of ip-link(8) that netd does not offer: named as such rather than taken for VIF.
constexpr std::string_view kOtherSettings[] = {
    "name",       "address", "broadcast",   "brd",        "peer",         "netns",        "alias",
    "txqueuelen", "txqlen",  "qlen",        "arp",        "multicast",    "allmulticast", "dynamic",
    "trailers",   "master",  "nomaster",    "vrf",        "type",         "group",        "carrier",
    "protodown",  "state",   "addrgenmode", "link-netns", "link-netnsid", "vf",
};

bool is_other_setting(std::string_view word) {
  for (auto setting : kOtherSettings)
    if (setting == word) return true;
  return false;
}

// The settings of one `link set`; only those given are sent (netd leaves the rest alone).
struct LinkSettings {
  std::optional<bool> up;
  std::optional<uint64_t> mtu;
  std::optional<bool> promisc;
  bool any() const { return up || mtu || promisc; }
};

netd::Status set_state(LinkSettings& settings, bool up) {
  if (settings.up && *settings.up != up)
    return make_error(EINVAL, "'up' and 'down' exclude each other");
  settings.up = up;
  return netd::ok_status();
}

netd::Status set_mtu(LinkSettings& settings, std::optional<std::string_view> value) {
  if (settings.mtu) return make_error(EINVAL, "'mtu' is given twice");
  if (!value) return make_error(EINVAL, "'mtu' needs a number 68..65535");
  NETD_ASSIGN_OR_RETURN(uint64_t mtu, netd::cli::parse_vif_mtu("mtu", *value));
  settings.mtu = mtu;
  return netd::ok_status();
}

netd::Status set_promisc(LinkSettings& settings, std::optional<std::string_view> value) {
  if (settings.promisc) return make_error(EINVAL, "'promisc' is given twice");
  if (!value || (*value != "on" && *value != "off"))
    return make_error(EINVAL, "'promisc' needs 'on' or 'off'" +
                                  (value ? ", got " + in_quotes(*value) : std::string()));
  settings.promisc = *value == "on";
  return netd::ok_status();
}

}  // namespace

netd::Result<Plan> parse_link_set(std::string_view command, std::span<const std::string_view> args,
                                  const GlobalOptions&) {
  std::string name = "link " + std::string(command);
  std::optional<std::string> dev;
  LinkSettings settings;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view word = args[i];
    if (word == "up" || word == "down") {
      NETD_TRY(set_state(settings, word == "up"));
    } else if (word == "mtu") {
      NETD_TRY(set_mtu(settings, value_after(args, i)));
      ++i;
    } else if (word == "promisc") {
      NETD_TRY(set_promisc(settings, value_after(args, i)));
      ++i;
    } else if (is_other_setting(word)) {
      return make_error(EINVAL, in_quotes(word) +
                                    " cannot be set through sliceip: only up, down, mtu and "
                                    "promisc");
    } else {
      NETD_TRY(take_device(name, args, i, dev));
    }
  }
  if (!dev) return make_error(EINVAL, "'" + name + "' needs a device: one of the slice's vifs");
  if (!settings.any())
    return make_error(EINVAL, "'" + name + "' needs a setting: up, down, mtu N, promisc on|off");
  json parameters = {{"name", *dev}};
  if (settings.up) parameters["up"] = *settings.up;
  if (settings.mtu) parameters["mtu"] = *settings.mtu;
  if (settings.promisc) parameters["promisc"] = *settings.promisc;
  return Plan::call("io.netd.Vifs.SetLink", std::move(parameters), print_nothing);
}

netd::Result<Plan> parse_link_show(std::string_view command, std::span<const std::string_view> args,
                                   const GlobalOptions&) {
  std::string name = "link " + std::string(command);
  std::optional<std::string> dev;
  for (size_t i = 0; i < args.size(); ++i) NETD_TRY(take_device(name, args, i, dev));
  json parameters = json::object();
  if (dev) parameters["name"] = *dev;
  return Plan::call("io.netd.Vifs.List", std::move(parameters), print_link_show);
}

}  // namespace sliceip
