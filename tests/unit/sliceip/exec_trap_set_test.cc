// Which calls the filter traps, from the slice's facts (io.netd.Slices.Show).
#include <gtest/gtest.h>

#include "tests/fixtures/test_macros.h"
#include "tools/sliceip/exec/slice_facts.h"
#include "tools/sliceip/exec/trap_set.h"

namespace sliceip::exec {
namespace {

nlohmann::json show(nlohmann::json slice) { return {{"slice", std::move(slice)}}; }

TEST(ExecTrapSet, FactsFromShowReply) {
  auto facts = parse_slice_facts(show(
      {{"name", "alice"}, {"raw", {"icmp", "packet"}}, {"capture_all", false}, {"max_vifs", 2}, {"id", 7}}));
  ASSERT_OK(facts);
  EXPECT_EQ(facts->name, "alice");
  EXPECT_EQ(facts->raw, (std::set<std::string>{"icmp", "packet"}));
  EXPECT_FALSE(facts->capture_all);
  EXPECT_EQ(facts->max_vifs, 2);
  EXPECT_EQ(facts->max_sockbuf, 0);
  auto buffers = parse_slice_facts(show({{"name", "bob"}, {"max_sockbuf", 33554432}}));
  ASSERT_OK(buffers);
  EXPECT_EQ(buffers->max_sockbuf, 33554432);
}

TEST(ExecTrapSet, MalformedShowReplyIsEproto) {
  for (const auto& reply : {nlohmann::json::object(), show("alice"), show({{"raw", {"icmp"}}}),
                            show({{"name", "a"}, {"raw", "icmp"}}), show({{"name", "a"}, {"raw", {1}}}),
                            show({{"name", "a"}, {"capture_all", 1}}), show({{"name", "a"}, {"max_vifs", "2"}}),
                            show({{"name", "a"}, {"max_sockbuf", "2MiB"}})}) {
    auto facts = parse_slice_facts(reply);
    ASSERT_FALSE(facts.ok()) << reply.dump();
    EXPECT_EQ(facts.error().code, EPROTO) << reply.dump();
  }
}

TEST(ExecTrapSet, NoRawNoSocketTrap) {
  SliceFacts facts;
  facts.name = "carol";
  facts.max_vifs = 4;
  TrapSet traps = trap_set_for(facts);
  EXPECT_FALSE(traps.raw_sockets);
  EXPECT_FALSE(traps.socket_filters);
  EXPECT_FALSE(traps.forced_buffers);
  EXPECT_TRUE(traps.tun_devices);  // max_vifs
  facts.max_vifs = 0;
  EXPECT_TRUE(trap_set_for(facts).empty());
}

// Only a slice that may hold netd's locked sockets needs the filter calls answered; only one
// with a max_sockbuf gets forced buffers from netd.
TEST(ExecTrapSet, SocketOptionsFollowTheSlicesRights) {
  SliceFacts raw;
  raw.raw = {"packet"};
  EXPECT_TRUE(trap_set_for(raw).socket_filters);
  EXPECT_FALSE(trap_set_for(raw).forced_buffers);
  SliceFacts buffers;
  buffers.max_sockbuf = 1 << 21;
  EXPECT_FALSE(trap_set_for(buffers).socket_filters);
  EXPECT_FALSE(trap_set_for(buffers).raw_sockets);
  EXPECT_TRUE(trap_set_for(buffers).forced_buffers);
  EXPECT_FALSE(trap_set_for(buffers).empty());
}

TEST(ExecTrapSet, AnyRawKindTrapsEveryRawFamily) {
  // Also packet sockets bob may not have: his EPERM then comes with netd's reason.
  for (const char* kind : {"icmp", "icmpv6", "udp", "tcp", "packet"}) {
    SliceFacts facts;
    facts.raw = {kind};
    EXPECT_TRUE(trap_set_for(facts).raw_sockets) << kind;
  }
}

TEST(ExecTrapSet, MonitorTrapsSockets) {
  SliceFacts facts;
  facts.capture_all = true;
  EXPECT_TRUE(trap_set_for(facts).raw_sockets);
}

}  // namespace
}  // namespace sliceip::exec
