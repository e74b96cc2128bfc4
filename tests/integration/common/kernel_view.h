// KernelView: what the kernel of a testbed's host netns holds of the kinds netd makes, read
// with tools independent of netd (ip -j, nft, bpftool -j, tc, the bpffs directory, and a
// BPF_PROG_QUERY for tcx, which Debian's bpftool 7.1 does not list). The invariant checker
// (invariants.h) compares it with the policy and with what netd says it made.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace netd::testing {

class Testbed;

struct KernelView {
  struct Rule {
    int family = 0;  // 4 or 6
    uint32_t priority = 0;
    std::optional<uint32_t> fwmark, fwmask;
    std::string table;                  // a lookup rule's
    std::optional<uint32_t> goto_target;  // a goto rule's
    bool nop = false;
    std::string text;  // ip -j's object, for messages
  };
  struct Route {
    int family = 0;
    std::string table;  // "main" when ip leaves it out
    std::string text;
  };
  struct Link {
    int ifindex = 0;
    std::string name;
    std::string kind;      // linkinfo info_kind ("tun", "veth", "" for lo)
    std::string tun_type;  // "tun" / "tap"
    std::optional<uint32_t> tun_user;
    std::vector<std::string> addresses;  // without prefix length, link-local included
  };
  struct HtbClass {
    std::string parent;  // "root" or a classid
    uint64_t rate = 0;
    uint64_t ceil = 0;
  };
  // One nft table: its chains, the rules of each (their JSON expressions), the elements of
  // each set and map, and (netdev) the devices its egress base chains hook.
  struct NftTable {
    bool exists = false;
    std::set<std::string> chains;
    std::map<std::string, std::vector<nlohmann::json>> rules;
    std::map<std::string, std::vector<nlohmann::json>> elements;
    std::map<std::string, std::set<std::string>> hooked_devices;  // netdev: chain -> devices its hook names
  };

  std::vector<Rule> rules;
  std::vector<Route> routes;
  std::map<std::string, Link> links;  // by name
  NftTable inet, netdev;
  std::set<std::string> pins;  // paths under <bpffs>/netd, relative ("raw/flows")
  // Entries of the pinned maps the checker reads (kMapsRead), by relative pin path: key and
  // value as bpftool formats them with BTF, or as one hex string of the raw bytes without.
  std::map<std::string, std::vector<std::pair<nlohmann::json, nlohmann::json>>> maps;
  std::multiset<std::string> cgroup_programs;  // names attached at the testbed's cgroup
  // device -> programs at its tcx egress ("name") and ingress ("ingress:name")
  std::map<std::string, std::vector<std::string>> tcx;
  std::map<std::string, nlohmann::json> root_qdiscs;                   // device -> tc -j object
  std::map<std::string, std::map<std::string, HtbClass>> htb_classes;  // device -> classid -> class
  std::vector<std::string> read_errors;                                // a tool that failed: the view is incomplete

  static KernelView read(const Testbed& bed);

  const Link* link(const std::string& name) const;
};

// "20Mbit" / "9940Mbit" / "10Gbit" / "12345bit" as tc prints rates; 0 when unreadable.
uint64_t tc_rate_bps(const std::string& text);

}  // namespace netd::testing
