// What the shaping tests under netd share: iperf3 sinks in the peer netns and goodput from
// their JSON, the HTB classes and root of a device read with tc, a classifier's map read with
// bpftool, the programs at a device's tcx hooks, and reloads of the testbed's policy.
#pragma once

#include <bpf/bpf.h>
#include <net/if.h>

#include <chrono>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>

#include "tests/fixtures/json.h"
#include "tests/integration/common/kernel_view.h"
#include "tests/integration/common/testbed_test.h"

namespace netd::testing {

constexpr double kGoodputPerRate = 1448.0 / 1514.0;  // TCP payload per HTB-counted byte, MTU 1500
constexpr uint32_t kAliceMark = 7u << 16, kBobMark = 8u << 16;
constexpr enum bpf_attach_type kTcxEgress = static_cast<enum bpf_attach_type>(47);
constexpr enum bpf_attach_type kTcxIngress = static_cast<enum bpf_attach_type>(46);

struct TcClass {
  std::string parent;
  uint64_t rate = 0;
  uint64_t ceil = 0;
};

class ShapingFixture : public TestbedTest {
 protected:
  // iperf3 servers in the peer netns, one per concurrent client.
  void start_sinks() {
    for (const char* port : {"5201", "5202"}) {
      auto sink = bed_->spawn_in_peer({"iperf3", "-s", "-p", port, "--forceflush"});
      ASSERT_OK(sink);
      sinks_.push_back(std::move(sink).value());
      for (int i = 0; i < 5; ++i) {
        auto line = sinks_.back().read_line(std::chrono::seconds(5));
        ASSERT_TRUE(line) << "iperf3 -s did not start";
        if (line->find("listening") != std::string::npos) break;
      }
    }
  }

  // `-R`: the peer sends (a download); the rest of the words go last.
  std::vector<std::string> iperf_args(int port, int seconds, std::vector<std::string> more = {}) const {
    std::vector<std::string> argv = {"iperf3", "-c", "10.0.1.2", "-p", std::to_string(port), "-t",
                                     std::to_string(seconds), "-O", "1", "-J"};
    argv.insert(argv.end(), more.begin(), more.end());
    return argv;
  }
  // Receiver-side goodput in bit/s of a finished iperf3 -J run (0 if it failed).
  static double goodput(const ProcessResult& r) {
    auto j = json_of(r.out);
    const nlohmann::json* bps = nullptr;
    if (r.ok() && j.is_object() && j["end"].is_object() && j["end"]["sum_received"].is_object())
      bps = &j["end"]["sum_received"]["bits_per_second"];
    if (bps == nullptr || !bps->is_number()) {
      ADD_FAILURE() << "iperf3: " << r.describe();
      return 0;
    }
    return bps->get<double>();
  }
  double goodput_of(uid_t uid, int seconds = 3, std::vector<std::string> more = {}) {
    return goodput(bed_->as(uid, iperf_args(5201, seconds, std::move(more))));
  }
  static void expect_near_rate(double goodput, double rate_bps, double tolerance, const char* who) {
    double want = rate_bps * kGoodputPerRate;
    EXPECT_NEAR(goodput / want, 1.0, tolerance) << who << ": " << goodput / 1e6 << " Mbit/s, want " << want / 1e6;
  }

  // The HTB classes of a device, from tc (iproute2 6.1 prints classes as text even with -j).
  std::map<std::string, TcClass> tc_classes(const std::string& dev = "uplink0") const {
    std::map<std::string, TcClass> out;
    std::istringstream in(bed_->root({"tc", "class", "show", "dev", dev}).out);
    for (std::string line; std::getline(in, line);) {
      std::istringstream words(line);
      std::string w, kind, id;
      words >> w >> kind >> id;
      if (w != "class" || kind != "htb") continue;
      TcClass c;
      std::string key;
      while (words >> key) {
        std::string value;
        if (key == "root") c.parent = "root";
        if (key != "parent" && key != "rate" && key != "ceil") continue;
        words >> value;
        if (key == "parent") c.parent = value;
        if (key == "rate") c.rate = tc_rate_bps(value);
        if (key == "ceil") c.ceil = tc_rate_bps(value);
      }
      out[id] = c;
    }
    return out;
  }
  uint64_t class_bytes(const std::string& id, const std::string& dev = "uplink0") const {
    std::string text = bed_->root({"tc", "-s", "class", "show", "dev", dev, "classid", id}).out;
    std::smatch m;
    static const std::regex re(R"(Sent (\d+) bytes)");
    return std::regex_search(text, m, re) ? std::stoull(m[1]) : 0;
  }
  nlohmann::json root_qdisc(const std::string& dev = "uplink0") const {
    auto all = json_of(bed_->root({"tc", "-j", "qdisc", "show", "dev", dev}).out);
    if (all.is_array())
      for (const auto& q : all)
        if (q.value("root", false)) return q;
    return {};
  }
  // A classifier's map (mark → classid), from bpftool: "classes" (uploads) or "classes_in".
  std::map<uint32_t, uint32_t> classifier_map(const std::string& pin = "classes") const {
    std::map<uint32_t, uint32_t> out;
    auto dump = json_of(
        bed_->root({"bpftool", "-j", "map", "dump", "pinned", bed_->bpffs() + "/netd/shaping/" + pin}).out);
    if (!dump.is_array()) return out;
    for (const auto& e : dump) {
      const auto& f = e.contains("formatted") ? e["formatted"] : e;
      if (f["key"].is_number() && f["value"].is_number()) out[f["key"].get<uint32_t>()] = f["value"].get<uint32_t>();
    }
    return out;
  }
  // Programs at tcx egress (or ingress) of the device in the host netns.
  uint32_t tcx_programs(const std::string& dev = "uplink0", enum bpf_attach_type type = kTcxEgress) const {
    auto in_host = bed_->host().enter();
    EXPECT_OK(in_host);
    int ifindex = static_cast<int>(if_nametoindex(dev.c_str()));
    __u32 ids[8] = {}, count = 8, flags = 0;
    if (ifindex <= 0 || bpf_prog_query(ifindex, type, 0, &flags, ids, &count) != 0) return 0;
    return count;
  }
  int host_ifindex(const std::string& dev) const {
    auto in_host = bed_->host().enter();
    EXPECT_OK(in_host);
    return static_cast<int>(if_nametoindex(dev.c_str()));
  }

  void reload(const std::string& policy) {
    ASSERT_OK(bed_->write_policy(policy));
    auto outcome = bed_->reload_netd();
    ASSERT_OK(outcome);
    ASSERT_THAT(*outcome, ::testing::HasSubstr("netd: reloaded"));
  }
  static void replace_uplinks(std::string& policy, const std::string& line) {
    const std::string old = "uplinks = [\"uplink0\"]";
    policy.replace(policy.find(old), old.size(), line);
  }
  std::string policy_without_bob() const {
    std::string text = bed_->policy_text(testbed_options());
    return text.substr(0, text.find("\n[[slice]]\nname = \"bob\""));
  }

  std::vector<ChildProcess> sinks_;
};

}  // namespace netd::testing
