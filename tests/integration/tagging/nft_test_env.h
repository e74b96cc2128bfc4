// What the nft tests share: `nft` run in the test netns, `table inet netd` as `nft -j` lists
// it, counters of test-only tables, and running table code inside the test netns.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/integration/tagging/tagging_env.h"

namespace netd::testing {

struct ListedTable {
  std::set<std::string> chains;
  // map -> key -> jump target; numeric keys (marks) and string keys (interface names) apart
  std::map<std::string, std::map<uint64_t, std::string>> maps;
  std::map<std::string, std::map<std::string, std::string>> ifname_maps;
  // plain sets: set -> elements ("tun7-0", concatenations as "0x00070000 . tun7-0")
  std::map<std::string, std::set<std::string>> sets;
};

inline std::string element_text(const nlohmann::json& e) {
  if (e.is_string()) return e.get<std::string>();
  if (e.is_number_unsigned()) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%#010llx", static_cast<unsigned long long>(e.get<uint64_t>()));
    return buf;
  }
  if (e.is_object() && e.contains("concat")) {
    std::string out;
    for (const auto& part : e["concat"]) out += (out.empty() ? "" : " . ") + element_text(part);
    return out;
  }
  return e.dump();
}

inline ListedTable parse_listing(const nlohmann::json& j) {
  ListedTable t;
  for (const auto& item : j["nftables"]) {
    if (item.contains("chain")) t.chains.insert(item["chain"]["name"].get<std::string>());
    if (item.contains("map")) {
      const auto& map = item["map"];
      const std::string name = map["name"].get<std::string>();
      t.maps[name];  // listed even when empty
      if (!map.contains("elem")) continue;
      for (const auto& e : map["elem"]) {
        std::string target = e[1]["jump"]["target"].get<std::string>();
        if (e[0].is_string()) {
          t.ifname_maps[name][e[0].get<std::string>()] = target;
        } else {
          t.maps[name][e[0].get<uint64_t>()] = target;
        }
      }
    }
    if (item.contains("set")) {
      auto& elems = t.sets[item["set"]["name"].get<std::string>()];
      if (!item["set"].contains("elem")) continue;
      for (const auto& e : item["set"]["elem"]) elems.insert(element_text(e));
    }
  }
  return t;
}

// Packet counts of the counters in `chain` of a listed test table, in rule order.
inline std::vector<uint64_t> counters(const nlohmann::json& listing, const std::string& chain) {
  std::vector<uint64_t> packets;
  if (!listing.contains("nftables")) return packets;
  for (const auto& item : listing["nftables"]) {
    if (!item.contains("rule") || item["rule"]["chain"] != chain) continue;
    for (const auto& expr : item["rule"]["expr"])
      if (expr.contains("counter")) packets.push_back(expr["counter"]["packets"].get<uint64_t>());
  }
  return packets;
}

class NftTableTest : public TaggingTest {
 protected:
  // Base chains of a `table inet netd` with conntrack (NftWanted's default) and no vif; a vif
  // adds vif_forward; raw_output comes only with a raw flag, flowlog_in/out only with flow log
  // groups.
  static inline const std::set<std::string> kBaseChains = {"mark_output", "mark_prerouting", "vif_postrouting"};
  static inline const std::set<std::string> kVifChains = {"vif_forward"};

  // The chains of a synced table without vifs: the base chains and `more`.
  static std::set<std::string> base_and(std::initializer_list<std::string> more) {
    std::set<std::string> s = kBaseChains;
    s.insert(more.begin(), more.end());
    return s;
  }
  // The same with some vif.
  static std::set<std::string> vifs_and(std::initializer_list<std::string> more) {
    std::set<std::string> s = base_and(more);
    s.insert(kVifChains.begin(), kVifChains.end());
    return s;
  }

  ProcessResult nft(const Netns& ns, const std::vector<std::string>& args, const std::string& input = "") {
    std::vector<std::string> argv = {"nft"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_in(&ns, argv, input);
  }

  nlohmann::json list_json(const Netns& ns, const std::string& table) {
    ProcessResult r = nft(ns, {"-j", "list", "table", "inet", table});
    EXPECT_TRUE(r.ok()) << r.describe();
    nlohmann::json j = json_of(r.out);
    if (!j.contains("nftables")) ADD_FAILURE() << r.describe();
    return j;
  }

  ListedTable list_netd() {
    nlohmann::json j = list_json(*ns_, "netd");
    return j.contains("nftables") ? parse_listing(j) : ListedTable{};
  }

  // `table netdev netd` (the vif guard, the raw send fence); empty if there is none.
  ListedTable list_netdev() {
    ProcessResult r = nft(*ns_, {"-j", "list", "table", "netdev", "netd"});
    return r.ok() ? parse_listing(json_of(r.out)) : ListedTable{};
  }

  std::string list_netd_text() { return nft(*ns_, {"list", "table", "inet", "netd"}).out; }

  // Runs `fn` with the test thread inside the test netns (where NetdNftTable works).
  template <typename Fn>
  void in_netns(Fn&& fn) {
    auto guard = ns_->enter();
    ASSERT_OK(guard);
    fn();
  }
};

}  // namespace netd::testing
