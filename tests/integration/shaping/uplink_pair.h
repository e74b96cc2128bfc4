// The set-up the shaping executors' tests share: two private netns joined by a veth, "up0"
// (10.9.0.1/24) in ns_ standing for the uplink under test and "upp" (10.9.0.2/24) in far_ for
// the network behind it, and a netlink socket opened in ns_ (a socket stays in the netns it
// was opened in, so the executors under test act there whatever thread calls them).
#pragma once

#include <net/if.h>

#include <optional>

#include <gtest/gtest.h>

#include "netd/kernel/netlink/nl_socket.h"
#include "tests/fixtures/netns.h"
#include "tests/fixtures/require_root.h"
#include "tests/fixtures/test_macros.h"
#include "tests/fixtures/veth.h"

namespace netd::testing {

class UplinkPairTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NETD_REQUIRE_ROOT();
    for (auto* ns : {&ns_, &far_}) ASSERT_OK_INTO(*ns, Netns::create());
    ASSERT_OK(add_veth_pair({&*ns_, "up0", "10.9.0.1/24"}, {&*far_, "upp", "10.9.0.2/24"}));
    auto in_ns = ns_->enter();
    ASSERT_OK(in_ns);
    uplink_ = static_cast<int>(::if_nametoindex("up0"));
    ASSERT_GT(uplink_, 0);
    ASSERT_OK_INTO(sock_, kernel::NlSocket::open());
  }
  // Whether SetUp got everything (a derived SetUp returns at once if not).
  bool set_up() const { return !HasFatalFailure() && !IsSkipped(); }

  std::optional<Netns> ns_, far_;
  std::optional<kernel::NlSocket> sock_;
  int uplink_ = 0;  // up0's ifindex
};

}  // namespace netd::testing
