// VifTest: the fixture helpers the vif integration suites share. Each test gets its own
// testbed (TestbedTest); a probe program (VIF_PROBE) plays the far end of a device and the
// kernel state (links, nft elements, BPF map entries) is read with independent tools.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tests/fixtures/eventually.h"
#include "tests/fixtures/json.h"
#include "tests/fixtures/probe_events.h"
#include "tests/fixtures/test_macros.h"
#include "tests/integration/common/testbed_test.h"

namespace netd::testing {

// A udp-listen or tcp-listen probe (see vif_probe.cc) and every line it printed so far. It
// listens until finish(): a test waits for what must arrive, never for a time.
struct Listener {
  ChildProcess p;
  std::vector<nlohmann::json> lines;

  // True once a "received" line with `payload` is in (false after `timeout`: the failure bound).
  bool receives(const std::string& payload, std::chrono::milliseconds timeout = kEventTimeout) {
    return read_until(
        p, lines,
        [&](const std::vector<nlohmann::json>& seen) {
          for (const auto& j : seen)
            if (j.value("event", "") == "received" && j.value("payload", "") == payload) return true;
          return false;
        },
        timeout);
  }
  // Stops it and returns its "done" line (what it got in all; null if it printed none). The
  // probe reads what the kernel has queued on its socket before it answers.
  nlohmann::json finish() {
    (void)p.write_stdin("quit\n");
    auto done = wait_event(p, lines, "done", kEventTimeout);
    p.wait(kEventTimeout);
    return done;
  }
  std::string describe() const { return nlohmann::json(lines).dump(); }
};

class VifTest : public TestbedTest {
 protected:
  ProcessResult probe(uid_t uid, std::vector<std::string> args) {
    args.insert(args.begin(), VIF_PROBE);
    return bed_->as(uid, args);
  }

  // How long ping listens for the reply to its one echo request. It returns as soon as the
  // reply is in, so an answered ping uses kEventTimeout, a bound after which the test fails.
  // A ping that must go unanswered gets kUnansweredPing, so the drop costs no more than that;
  // its "no reply" proves nothing by itself on a loaded machine, and every test that uses
  // it shows with a sentinel that the request never reached the device at all.
  static constexpr std::chrono::seconds kAnsweredPing =
      std::chrono::duration_cast<std::chrono::seconds>(kEventTimeout);
  static constexpr std::chrono::seconds kUnansweredPing{1};
  // One echo request (-c 1: exactly one, whatever the machine's speed) from uid; true when
  // answered. IPv6 for an address with a colon.
  bool ping(uid_t uid, const std::string& addr, std::chrono::seconds patience = kAnsweredPing) {
    const char* family = addr.find(':') == std::string::npos ? "-4" : "-6";
    return bed_->as(uid, {"ping", family, "-n", "-c", "1", "-W", std::to_string(patience.count()), addr}).ok();
  }

  // Reads the probe's JSON lines until one has "event" == want (others are kept in seen_).
  nlohmann::json wait_event(ChildProcess& p, const std::string& want,
                            std::chrono::milliseconds timeout = kEventTimeout) {
    return netd::testing::wait_event(p, seen_, want, timeout);
  }
  // Reads the probe's lines into seen_ until `done()` holds (it looks at seen_, e.g. through
  // rx_count): true then, false after `timeout`, the failure bound.
  bool read_until(ChildProcess& p, const std::function<bool()>& done,
                  std::chrono::milliseconds timeout = kEventTimeout) {
    return netd::testing::read_until(p, seen_, [&](const std::vector<nlohmann::json>&) { return done(); }, timeout);
  }
  size_t count_seen(const std::function<bool(const nlohmann::json&)>& match) const {
    size_t n = 0;
    for (const auto& j : seen_)
      if (match(j)) ++n;
    return n;
  }
  size_t rx_count(const std::string& proto, const std::string& src) const {
    return count_seen([&](const nlohmann::json& j) {
      return j.value("event", "") == "rx" && j.value("proto", "") == proto && j.value("src", "") == src;
    });
  }
  std::string seen_dump() const { return nlohmann::json(seen_).dump(); }

  // A udp-listen/tcp-listen probe just spawned, once it listens (nullopt, with the failure
  // recorded, if it does not).
  std::optional<Listener> listening(Result<ChildProcess> spawned) {
    if (!spawned.ok()) {
      ADD_FAILURE() << "listener: " << spawned.error().message;
      return std::nullopt;
    }
    std::optional<Listener> l;
    l.emplace(Listener{std::move(spawned).value(), {}});
    if (netd::testing::wait_event(l->p, l->lines, "listening", kEventTimeout).value("ok", false) != true) {
      ADD_FAILURE() << "listener did not listen: " << l->describe() << " " << l->p.wait(kEventTimeout).describe();
      return std::nullopt;
    }
    return l;
  }
  // uid's listener (host netns, testbed cgroup) on ADDR PORT; kind "udp" or "tcp".
  std::optional<Listener> listen_as(uid_t uid, const std::string& kind, const std::string& addr,
                                    const std::string& port) {
    return listening(bed_->spawn_as(uid, {VIF_PROBE, kind + "-listen", addr, port}));
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
