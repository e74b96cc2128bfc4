// What every VifGuard test needs: the netns netd would run in ("host"), a far netns behind
// two veth pairs (vif0 stands in for a vif, up0 for an uplink), a cgroup for the local
// processes with slice tagging (uid 1001 → slice mark), a bpffs directory, and helpers that
// run probes as uids and report what reached them.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "netd/kernel/bpf/slice_tagger.h"
#include "netd/kernel/bpf/vif_guard.h"
#include "tests/fixtures/json.h"
#include "tests/fixtures/netns.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/test_bpffs.h"
#include "tests/fixtures/test_cgroup.h"
#include "tests/fixtures/test_macros.h"

namespace netd::testing {

inline constexpr uint32_t kMask = 0x0fff0000;
inline constexpr uint32_t kMember = 1001;    // member of slice 7
inline constexpr uint32_t kStranger = 1002;  // in no slice
inline constexpr uint32_t kSliceMark = 7u << 16;
// vif0 and its peer in the far netns share this ifindex: the guard must tell them apart.
inline constexpr int kVifIndex = 42;

// Addresses: vif0 10.7.0.1 / fd07::1 (peer .2 / ::2), up0 10.8.0.1 / fd08::1 (peer .2 / ::2).
struct FamilyAddrs {
  const char* any;     // wildcard to listen on
  const char* vif;     // the vif's (guarded) address
  const char* uplink;  // up0's address
  const char* far_vif;  // the peer of vif0
};
inline constexpr FamilyAddrs kV4{"0.0.0.0", "10.7.0.1", "10.8.0.1", "10.7.0.2"};
inline constexpr FamilyAddrs kV6{"::", "fd07::1", "fd08::1", "fd07::2"};
// Test names and failure messages show the family, not the struct's bytes.
inline void PrintTo(const FamilyAddrs& a, std::ostream* os) { *os << (a.any[0] == ':' ? "IPv6" : "IPv4"); }

class VifGuardTest : public ::testing::Test {
 protected:
  void SetUp() override;

  kernel::VifGuardConfig config() const;
  // VifGuard::open in the host netns (it guards the netns of the calling thread).
  Result<kernel::VifGuard> open_guard(const std::string& cgroup_path = "");
  // vif0's ifindex and both its addresses, owned by slice 7.
  Status guard_vif0(kernel::VifGuard& guard);

  // A `vifguard_probe serve ADDR PORT` as uid in the cgroup, once it listens (nullopt and a
  // test failure if it does not).
  std::optional<ChildProcess> serve(uint32_t uid, const Netns& netns, const std::string& addr, int port);
  // What the server printed until a line carrying `last` (its DATA), then a short quiet spell.
  std::vector<nlohmann::json> received(ChildProcess& server, const std::string& last);
  // Far-side clients (root, outside the test cgroup, so no program judges their sockets).
  void udp_send(const Netns& from, const std::string& addr, int port, const std::string& data);
  nlohmann::json tcp_connect(const Netns& from, const std::string& addr, int port, const std::string& data,
                             int timeout_ms = 1500);
  // bind() results per address as `vifguard_probe bind` prints them.
  nlohmann::json bind_as(uint32_t uid, const Netns& netns, const std::vector<std::string>& addrs);

  // Programs bpftool lists on a cgroup, and how many are attached at `hook` (default: the
  // test cgroup).
  enum class Hook { kIngress, kBind4, kBind6 };
  nlohmann::json cgroup_programs(const std::string& cgroup_path);
  size_t programs_at(Hook hook, const std::string& cgroup_path = "");

  std::optional<Netns> ns_;   // "host": netd's netns, where the vif lives
  std::optional<Netns> far_;  // the other end of vif0 and up0
  std::optional<TestCgroup> cgroup_;
  std::optional<TestBpffsDir> bpffs_;
  std::optional<kernel::SliceTagger> tagger_;
};

bool has_data(const std::vector<nlohmann::json>& lines, const char* proto, const std::string& data);

}  // namespace netd::testing
