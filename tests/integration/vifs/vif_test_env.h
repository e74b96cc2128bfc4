// VifTest: the fixture helpers the vif integration suites share. Each test gets its own
// testbed (TestbedTest); a probe program (VIF_PROBE) plays the far end of a device and the
// kernel state (links, nft elements, BPF map entries) is read with independent tools.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/fixtures/json.h"
#include "tests/fixtures/probe_events.h"
#include "tests/fixtures/test_macros.h"
#include "tests/integration/common/testbed_test.h"

namespace netd::testing {

class VifTest : public TestbedTest {
 protected:
  // Waits (up to 5 s) until `done()` holds; netd applies link events asynchronously.
  template <typename Pred>
  bool eventually(Pred done) {
    for (int i = 0; i < 250; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return done();
  }

  ProcessResult probe(uid_t uid, std::vector<std::string> args) {
    args.insert(args.begin(), VIF_PROBE);
    return bed_->as(uid, args);
  }
  bool ping(uid_t uid, const std::string& addr) {
    return bed_->as(uid, {"ping", "-n", "-c", "1", "-W", "1", addr}).ok();
  }

  // Reads the probe's JSON lines until one has "event" == want (others are kept in seen_).
  nlohmann::json wait_event(ChildProcess& p, const std::string& want,
                            std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    return netd::testing::wait_event(p, seen_, want, timeout);
  }
  // Lines the probe printed so far (reading what is pending for up to `settle`).
  std::vector<nlohmann::json> drain(ChildProcess& p,
                                    std::chrono::milliseconds settle = std::chrono::milliseconds(300)) {
    while (auto line = p.read_line(settle)) seen_.push_back(json_of(*line));
    return seen_;
  }
  size_t rx_count(const std::string& proto, const std::string& src) {
    size_t n = 0;
    for (const auto& j : seen_)
      if (j.value("event", "") == "rx" && j.value("proto", "") == proto && j.value("src", "") == src) ++n;
    return n;
  }

  // Every device name netd's nft table keys a map or set element by.
  std::set<std::string> nft_names() {
    std::set<std::string> out;
    auto r = bed_->root({"nft", "-j", "list", "table", "inet", "netd"});
    if (!r.ok()) return out;
    std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& j) {
      if (j.is_string()) {
        std::string s = j.get<std::string>();
        if (s.rfind("tun", 0) == 0 || s.rfind("tap", 0) == 0) out.insert(s);
      } else if (j.is_array() || j.is_object()) {
        for (const auto& v : j) walk(v);
      }
    };
    nlohmann::json listing = json_of(r.out);  // kept alive: the loop refers into it
    for (const auto& item : listing["nftables"]) {
      if (item.contains("map")) walk(item["map"].value("elem", nlohmann::json::array()));
      if (item.contains("set")) walk(item["set"].value("elem", nlohmann::json::array()));
    }
    return out;
  }
  std::string nft_dump() {
    auto r = bed_->root({"nft", "-j", "list", "table", "inet", "netd"});
    return r.describe() + "\nnetd log:\n" + bed_->netd_log();
  }
  // Entries of a pinned BPF map of netd's vif guard.
  size_t guard_entries(const std::string& map) {
    auto r = bed_->root({"bpftool", "-j", "map", "dump", "pinned", bed_->bpffs() + "/netd/vifs/" + map});
    if (!r.ok()) return 0;
    return json_of(r.out).size();
  }
  bool link_exists(const std::string& name) { return bed_->root({"ip", "link", "show", "dev", name}).ok(); }
  nlohmann::json link_details(const std::string& name) {
    auto r = bed_->root({"ip", "-j", "-d", "link", "show", "dev", name});
    auto j = json_of(r.out);
    return j.is_array() && !j.empty() ? j[0] : nlohmann::json();
  }
  std::vector<std::string> tun_devices() {
    std::vector<std::string> out;
    nlohmann::json links = json_of(bed_->root({"ip", "-j", "link", "show", "type", "tun"}).out);
    for (const auto& l : links) out.push_back(l.value("ifname", ""));
    return out;
  }

  // uid's program on a tun/tap made by `vtuntap run`: it owns `own` at the far end.
  Result<ChildProcess> run_responder(uid_t uid, std::vector<std::string> vtuntap_args, const std::string& own) {
    std::vector<std::string> argv = {vtuntap_binary(), "run"};
    argv.insert(argv.end(), vtuntap_args.begin(), vtuntap_args.end());
    argv.insert(argv.end(), {"--", VIF_PROBE, "responder", "--own", own});
    return bed_->spawn_as(uid, argv);
  }

  std::vector<nlohmann::json> seen_;
};

}  // namespace netd::testing
