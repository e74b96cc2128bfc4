#include "tests/integration/bpfprog/bpfprog_env.h"

#include <bpf/bpf.h>
#include <net/if.h>
#include <netinet/in.h>

#include <cstdio>
#include <cstring>

#include "bpf/netd_maps.h"
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

// Sets family and copies the address bytes (IPv4 in the first 4, the rest zero).
void set_address(const std::string& text, uint8_t* family, uint8_t* to) {
  auto a = probe::parse_ip(text);
  ASSERT_TRUE(a.has_value()) << text;
  *family = static_cast<uint8_t>(a->family);
  std::memcpy(to, a->bytes.data(), a->view().size());
}

template <typename Key>
void put(int map_fd, const Key& key, uint32_t mark) {
  ASSERT_EQ(bpf_map_update_elem(map_fd, &key, &mark, BPF_ANY), 0) << std::strerror(errno);
}

}  // namespace

std::vector<Row> expecting(const std::vector<Row>& rows, const std::string& want, const std::string& phase) {
  std::vector<Row> out = rows;
  for (Row& row : out) {
    if (!phase.empty()) row.name = phase + ": " + row.name;
    row.want = want;
  }
  return out;
}

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
  ASSERT_OK(recorder_->record_egress());
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

void BpfProgTest::put_flow(uint8_t proto, const std::string& src, uint16_t sport, const std::string& dst,
                           uint16_t dport, uint32_t mark) {
  netd_flow_key key{};
  key.proto = proto;
  key.sport = htons(sport);
  key.dport = htons(dport);
  uint8_t dst_family = 0;
  set_address(src, &key.family, key.saddr);
  set_address(dst, &dst_family, key.daddr);
  ASSERT_EQ(dst_family, key.family) << src << " -> " << dst;
  put(recorder_->flow_map_fd(), key, mark);
}

void BpfProgTest::put_port(uint8_t proto, const std::string& addr, uint16_t port, uint32_t mark) {
  netd_port_key key{};
  key.proto = proto;
  key.port = htons(port);
  if (!addr.empty()) set_address(addr, &key.family, key.addr);
  put(recorder_->port_map_fd(), key, mark);
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
