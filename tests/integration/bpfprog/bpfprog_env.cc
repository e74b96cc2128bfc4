#include "tests/integration/bpfprog/bpfprog_env.h"

#include <net/if.h>

#include <cstdio>

#include "tests/fixtures/process.h"
#include "tests/fixtures/require_root.h"

namespace netd::testing {
namespace {

std::string mac_text(const packet::Mac& mac) {
  char text[18];
  std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  return text;
}

// A veth pair with both ends in `netns`: only its ifindex and MAC matter to test_run.
Status add_device(const Netns& netns, const std::string& ifname, const packet::Mac& mac) {
  ProcessResult r = run_in(&netns, {"ip", "link", "add", ifname, "address", mac_text(mac), "type", "veth", "peer",
                                    "name", ifname + "p"});
  if (!r.ok()) return make_error(EIO, "ip link add " + ifname + ": " + r.describe());
  return ok_status();
}

}  // namespace

std::string socket_filter_verdict(const SkbRun& run, const Row& row) {
  if (run.retval == 0) return "drop";
  if (run.retval == row.frame.size() - packet::kEthHeaderLen) return "keep";
  return "keep " + std::to_string(run.retval) + " bytes";
}

std::string cgroup_skb_verdict(const SkbRun& run, const Row&) {
  if (run.retval == 1) return "pass";
  if (run.retval == 0) return "drop";
  return "retval " + std::to_string(run.retval);
}

void BpfProgTest::SetUp() {
  NETD_REQUIRE_ROOT();
  ASSERT_OK_INTO(ns_, Netns::create());
  ASSERT_OK_INTO(cgroup_, TestCgroup::create());
  ASSERT_OK_INTO(bpffs_, TestBpffsDir::create());
  ASSERT_OK(add_device(*ns_, "up0", kUp0Mac));
  ASSERT_OK(add_device(*ns_, "vif0", kVif0Mac));
  ASSERT_OK(add_device(*ns_, "vif1", kVif1Mac));
  ASSERT_OK_INTO(in_ns_, ns_->enter());
  up0_ = ::if_nametoindex("up0");
  vif0_ = ::if_nametoindex("vif0");
  vif1_ = ::if_nametoindex("vif1");
  ASSERT_TRUE(up0_ > 1 && vif0_ > 1 && vif1_ > 1);

  ASSERT_OK_INTO(guard_, kernel::VifGuard::open({bpffs_dir(), cgroup_->path(), kMask}));
  ASSERT_OK(guard_->sync({{static_cast<int>(vif0_), kAliceMark}, {static_cast<int>(vif1_), kBobMark}}, {}));
  ASSERT_OK_INTO(recorder_, kernel::FlowRecorder::open({bpffs_dir(), cgroup_->path(), kMask, kRawFlag}));
  auto maps = kernel::RawFilterMaps::open_pinned(bpffs_dir());
  ASSERT_OK(maps);
  ASSERT_OK_INTO(filters_, kernel::RawFilters::create(std::move(maps).value(), kMask));
}

Result<BpfProgram> BpfProgTest::linked_program(const std::string& pin) const {
  return BpfProgram::of_link_pin(bpffs_dir() + "/" + pin);
}

Result<BpfProgram> BpfProgTest::slice_filter(uint32_t slice_mark) {
  NETD_ASSIGN_OR_RETURN(int fd, filters_->slice_filter(slice_mark));
  return BpfProgram::dup(fd);
}

Row BpfProgTest::up0(std::string name, packet::ByteView ip_packet, std::string want, uint32_t mark) const {
  return on(up0_, std::move(name), packet::frame(kUp0Mac, ip_packet), std::move(want), mark);
}

Row BpfProgTest::on(uint32_t ifindex, std::string name, packet::Bytes frame, std::string want, uint32_t mark) const {
  return {std::move(name), std::move(frame), {.mark = mark, .ifindex = ifindex}, std::move(want)};
}

void BpfProgTest::run_table(const BpfProgram& prog, const std::vector<Row>& rows, const Describe& describe) {
  auto name = prog.name();
  ASSERT_OK(name);
  for (const Row& row : rows) {
    auto run = prog.run(row.frame, row.ctx);
    if (!run.ok()) {
      ADD_FAILURE() << "'" << row.name << "': " << *name << " did not run: " << run.error().message;
      continue;
    }
    std::string got = describe(*run, row);
    EXPECT_EQ(got, row.want) << "'" << row.name << "': " << *name << " said " << got << ", expected " << row.want;
  }
}

}  // namespace netd::testing
