// PortReservations::sync refuses entries the reservation program could not honour (port 0 or
// above 65535, mark 0, a mark with bits outside mark_mask), names the entry, and leaves the
// pinned map as it was: one bad entry among good ones changes nothing. Private netns, cgroup
// and bpffs directory; the pinned map is read back with bpftool as well as through the object.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>

#include "netd/kernel/bpf/port_reservations.h"
#include "tests/fixtures/json.h"
#include "tests/fixtures/netns.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/require_root.h"
#include "tests/fixtures/test_bpffs.h"
#include "tests/fixtures/test_cgroup.h"
#include "tests/fixtures/test_macros.h"

namespace netd::testing {
namespace {

using kernel::PortReservations;

constexpr uint32_t kMask = 0x0fff0000;
constexpr uint32_t kAliceMark = 7u << 16;
const std::map<uint32_t, uint32_t> kGood = {{80, kAliceMark}, {5000, kAliceMark}};

class PortReservationsSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NETD_REQUIRE_ROOT();
    ASSERT_OK_INTO(ns_, Netns::create());
    ASSERT_OK_INTO(cgroup_, TestCgroup::create());
    ASSERT_OK_INTO(bpffs_, TestBpffsDir::create());
    auto in_ns = ns_->enter();
    ASSERT_OK(in_ns);
    ASSERT_OK_INTO(ports_, PortReservations::open({dir(), cgroup_->path(), kMask}));
    ASSERT_OK(ports_->sync(kGood));
  }
  void TearDown() override {
    ports_.reset();
    if (bpffs_) EXPECT_OK(PortReservations::teardown(dir()));
  }
  std::string dir() const { return bpffs_->path() + "/netd"; }

  // The pinned map as bpftool reads it: port → mark.
  std::map<uint32_t, uint32_t> pinned() const {
    const std::string pin = dir() + "/" + PortReservations::kDir + "/" + PortReservations::kMapPin;
    auto r = run_in(nullptr, {"bpftool", "-j", "map", "dump", "pinned", pin});
    EXPECT_TRUE(r.ok()) << r.describe();
    std::map<uint32_t, uint32_t> out;
    auto entries = json_of(r.out);
    for (const auto& e : entries) {
      EXPECT_TRUE(e.contains("formatted")) << e;  // the map carries BTF
      if (e.contains("formatted")) out[e["formatted"]["key"].get<uint32_t>()] = e["formatted"]["value"].get<uint32_t>();
    }
    return out;
  }

  std::optional<Netns> ns_;
  std::optional<TestCgroup> cgroup_;
  std::optional<TestBpffsDir> bpffs_;
  std::optional<PortReservations> ports_;
};

struct BadEntry {
  uint32_t port;
  uint32_t mark;
  const char* error;
};

TEST_F(PortReservationsSyncTest, RefusesABadEntryAndLeavesThePinnedMapAsItWas) {
  ASSERT_EQ(pinned(), kGood);
  const BadEntry bad[] = {
      {0, kAliceMark, "^ports: port 0 is not a port 1\\.\\.65535$"},
      {65536, kAliceMark, "^ports: port 65536 is not a port 1\\.\\.65535$"},
      {443, 0, "^ports: mark of port 443 is 0 \\(unmarked sockets own no port\\)$"},
      {443, kAliceMark | 0x10000000,
       "^ports: mark 0x10070000 of port 443 has bits outside mark_mask 0x0fff0000$"},
      {443, 0x1, "^ports: mark 0x00000001 of port 443 has bits outside mark_mask 0x0fff0000$"},
  };
  for (const BadEntry& b : bad) {
    SCOPED_TRACE("port " + std::to_string(b.port) + " mark " + std::to_string(b.mark));
    // Alone, and beside good entries that would change the map (a new port, one dropped).
    EXPECT_ERR(ports_->sync({{b.port, b.mark}}), EINVAL, b.error);
    EXPECT_ERR(ports_->sync({{80, kAliceMark}, {8080, kAliceMark}, {b.port, b.mark}}), EINVAL, b.error);
    auto now = ports_->port_marks();
    ASSERT_OK(now);
    EXPECT_EQ(*now, kGood);
    EXPECT_EQ(pinned(), kGood);
  }
}

}  // namespace
}  // namespace netd::testing
