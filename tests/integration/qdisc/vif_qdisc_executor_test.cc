// VifQdiscExecutor on a tun in a private netns, checked with tc: what it reads back, and that
// an HTB whose class cannot be made never stays behind without it.
#include <net/if.h>

#include "netd/kernel/netlink/nl_socket.h"
#include "netd/kernel/netlink/vif_qdisc.h"
#include "tests/fixtures/json.h"
#include "tests/fixtures/netns.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/require_root.h"
#include "tests/fixtures/test_macros.h"

namespace netd::testing {
namespace {

using kernel::NlSocket;
using kernel::VifQdiscExecutor;

class VifQdiscExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NETD_REQUIRE_ROOT();
    ASSERT_OK_INTO(ns_, Netns::create());
    for (auto argv : {std::vector<std::string>{"ip", "tuntap", "add", "dev", "tun7-0", "mode", "tun"},
                      std::vector<std::string>{"ip", "link", "set", "tun7-0", "up"}}) {
      ProcessResult r = run_in(&*ns_, argv);
      ASSERT_TRUE(r.ok()) << r.describe();
    }
    auto in_ns = ns_->enter();
    ASSERT_OK(in_ns);
    ifindex_ = static_cast<int>(::if_nametoindex("tun7-0"));
    ASSERT_GT(ifindex_, 0);
    ASSERT_OK_INTO(sock_, NlSocket::open());
    exec_.emplace(*sock_);
  }

  nlohmann::json tc_root() {
    ProcessResult r = run_in(&*ns_, {"tc", "-s", "-j", "qdisc", "show", "dev", "tun7-0"});
    for (const auto& q : json_of(r.out))
      if (q.value("root", false)) return q;
    return nullptr;
  }

  std::optional<Netns> ns_;
  std::optional<NlSocket> sock_;
  std::optional<VifQdiscExecutor> exec_;
  int ifindex_ = 0;
};

TEST_F(VifQdiscExecutorTest, TbfReadsBackWhatWasSet) {
  ASSERT_OK(exec_->replace_tbf(ifindex_, "tun7-0", {10'000'000, 10240, 72740}));
  auto state = exec_->root(ifindex_, "tun7-0");
  ASSERT_OK(state);
  EXPECT_EQ(state->kind, "tbf");
  EXPECT_EQ(state->handle, 0x20000u);
  ASSERT_TRUE(state->tbf.has_value());
  EXPECT_EQ(state->tbf->rate_bps, 10'000'000u);
  EXPECT_NEAR(state->tbf->burst_bytes, 10240, 4);
  EXPECT_EQ(state->tbf->limit_bytes, 72740u);
  nlohmann::json q = tc_root();
  EXPECT_EQ(q["options"].value("rate", 0), 1'250'000) << q;
  EXPECT_EQ(q.value("bytes", -1), static_cast<int64_t>(state->counters.bytes)) << q;
}

TEST_F(VifQdiscExecutorTest, DefaultQdiscCannotBeDeleted) {
  auto state = exec_->root(ifindex_, "tun7-0");
  ASSERT_OK(state);
  EXPECT_EQ(state->handle, 0u);
  EXPECT_ERR(exec_->remove_root(ifindex_, "tun7-0"), ENOENT,
             "^tun7-0 has no root qdisc to delete \\(it has its default, " + state->kind + "\\)$");
}

// HtbExecutor::set_class refuses a rate below 8 bit/s (before sending anything): the root
// made for it must go again, whatever was there before.
TEST_F(VifQdiscExecutorTest, HtbWhoseClassFailsLeavesNoRootBehind) {
  const std::string default_kind = tc_root().value("kind", "");
  EXPECT_ERR(exec_->replace_htb(ifindex_, "tun7-0", 4), EINVAL, "making htb the root qdisc of tun7-0");
  EXPECT_EQ(tc_root().value("kind", ""), default_kind);

  // Over a tbf: the device falls back to its default (never an HTB passing all unshaped).
  ASSERT_OK(exec_->replace_tbf(ifindex_, "tun7-0", {10'000'000, 10240, 72740}));
  EXPECT_ERR(exec_->replace_htb(ifindex_, "tun7-0", 4), EINVAL, "rate must be");
  EXPECT_EQ(tc_root().value("kind", ""), default_kind);

  // Over netd's own htb: the root and its class stay as they were.
  ASSERT_OK(exec_->replace_htb(ifindex_, "tun7-0", 5'000'000));
  EXPECT_ERR(exec_->replace_htb(ifindex_, "tun7-0", 4), EINVAL, "rate must be");
  auto state = exec_->root(ifindex_, "tun7-0");
  ASSERT_OK(state);
  EXPECT_EQ(state->kind, "htb");
  ASSERT_TRUE(state->htb_class.has_value());
  EXPECT_EQ(state->htb_class->rate_bps, 5'000'000u);
  EXPECT_EQ(state->htb_class->ceil_bps, 5'000'000u);
}

}  // namespace
}  // namespace netd::testing
