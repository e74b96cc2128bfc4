#include "netd/fleet/fleet_policy.h"

#include "netd/policy/validate.h"

namespace netd::fleet {

namespace {

// Key text echoed in notes and errors, which end up in the log: one printable line.
std::string printable(std::string_view text) {
  std::string out(text.substr(0, 200));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  if (text.size() > 200) out += "...";
  return out;
}

}  // namespace

Result<FleetSlices> fleet_slices(const KeyMap& keys, std::string_view prefix, std::string_view node) {
  // By name: the fleet's value, replaced by this host's where it has one.
  struct Chosen {
    const std::string* key = nullptr;
    const std::string* value = nullptr;
    bool fleet = false;  // there is a fleet value (an empty host value then takes it off here)
    bool host = false;   // the value is this host's
  };
  std::map<std::string, Chosen> by_name;
  FleetSlices out;
  for (const auto& [key, value] : keys) {
    KeyPlace place = place_of(key, prefix, node);
    if (place.role == KeyRole::kUnknown)
      out.notes.push_back("etcd:" + printable(key) + ": ignored: not a key netd knows under " + std::string(prefix) +
                          " (slices/<name>, hosts/<node>/slices/<name>, nodes/<node>)");
    if (place.role != KeyRole::kSlice && place.role != KeyRole::kHostSlice) continue;
    if (!policy::is_valid_slice_name(place.slice))
      return make_error(EINVAL, "etcd:" + printable(key) + ": '" + printable(place.slice) +
                                    "' is not a slice name ([a-z][a-z0-9_-]{0,30}, the key's last part)");
    Chosen& chosen = by_name[place.slice];
    const bool host = place.role == KeyRole::kHostSlice;
    chosen.fleet = chosen.fleet || !host;
    if (chosen.host && !host) continue;  // this host's value wins, whichever key came first
    chosen.key = &key;
    chosen.value = &value;
    chosen.host = host;
  }
  out.slices.reserve(by_name.size());
  for (const auto& [name, chosen] : by_name) {
    if (chosen.host && chosen.value->empty()) {
      if (chosen.fleet) out.off_here.push_back(name);
      continue;
    }
    out.slices.push_back({"etcd:" + *chosen.key, name, *chosen.value});
  }
  return out;
}

KeyMap policy_keys(const KeyMap& keys, std::string_view prefix, std::string_view node) {
  KeyMap out;
  for (const auto& [key, value] : keys) {
    KeyRole role = place_of(key, prefix, node).role;
    if (role == KeyRole::kSlice || role == KeyRole::kHostSlice) out.emplace_hint(out.end(), key, value);
  }
  return out;
}

Result<policy::Policy> FleetPolicyBuilder::build(std::string_view main_text, const std::string& main_source,
                                                 const KeyMap& keys, std::string_view prefix, std::string_view node,
                                                 const policy::HostLimits& host, std::vector<std::string>* notes) {
  NETD_ASSIGN_OR_RETURN(FleetSlices slices, fleet_slices(keys, prefix, node));
  if (notes != nullptr) *notes = std::move(slices.notes);
  return loader_.load(main_text, main_source, slices.slices, host);
}

Result<policy::Policy> fleet_policy(std::string_view main_text, const std::string& main_source, const KeyMap& keys,
                                    std::string_view prefix, std::string_view node, const policy::HostLimits& host,
                                    std::vector<std::string>* notes) {
  FleetPolicyBuilder builder;
  return builder.build(main_text, main_source, keys, prefix, node, host, notes);
}

}  // namespace netd::fleet
