// IfbExecutor in a private netns: netd's IFB of an uplink is made with the right kind, alias,
// txqueuelen, addrgenmode and state, adopted (same device, its HTB kept, alias and state
// fixed), listed and removed; a foreign device of that name, and deleting anything but netd's
// IFB, are refused. Checked with `ip -j -d link show` and `tc`.
#include <net/if.h>

#include "netd/kernel/netlink/ifb.h"
#include "netd/kernel/netlink/nl_socket.h"
#include "tests/fixtures/json.h"
#include "tests/fixtures/netns.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/require_root.h"
#include "tests/fixtures/test_macros.h"
#include "tests/fixtures/veth.h"
#include "tests/integration/shaping/uplink_pair.h"

namespace netd::testing {
namespace {

using kernel::IfbControl;
using kernel::IfbExecutor;
using kernel::NlSocket;

class IfbTest : public UplinkPairTest {
 protected:
  void SetUp() override {
    UplinkPairTest::SetUp();
    if (!set_up()) return;
    ifb_name_ = IfbControl::name_for(uplink_);
  }

  ProcessResult run(const std::vector<std::string>& argv) {
    ProcessResult r = run_in(&*ns_, argv);
    EXPECT_TRUE(r.ok()) << r.describe();
    return r;
  }

  // `ip -j -d link show NAME`'s object, or null if there is no such device.
  nlohmann::json link(const std::string& name) {
    ProcessResult r = run_in(&*ns_, {"ip", "-j", "-d", "link", "show", name});
    if (!r.ok()) return nullptr;
    nlohmann::json j = json_of(r.out);
    EXPECT_TRUE(j.is_array() && j.size() == 1) << r.out;
    return j.is_array() && j.size() == 1 ? j[0] : nlohmann::json();
  }

  static bool is_up(const nlohmann::json& l) {
    for (const auto& f : l.value("flags", nlohmann::json::array()))
      if (f == "UP") return true;
    return false;
  }

  std::string ifb_name_;
};

TEST_F(IfbTest, EnsureCreatesThenAdoptsListRemove) {
  EXPECT_EQ(IfbControl::name_for(2147483647), "netdi2147483647");  // 15 characters: fits IFNAMSIZ
  IfbExecutor ifbs(*sock_);
  auto made = ifbs.ensure(uplink_, "up0");
  ASSERT_OK(made);
  nlohmann::json l = link(ifb_name_);
  ASSERT_TRUE(l.is_object()) << ifb_name_;
  EXPECT_EQ(l["ifindex"], *made);
  EXPECT_EQ(l["linkinfo"]["info_kind"], "ifb");
  EXPECT_EQ(l["ifalias"], "netd ingress of up0");
  EXPECT_EQ(l["txqlen"], 1000);
  EXPECT_EQ(l["inet6_addr_gen_mode"], "none");
  EXPECT_TRUE(is_up(l)) << l.dump();
  // addrgenmode was none before it went up: no link-local address, ever.
  nlohmann::json addrs = json_of(run({"ip", "-j", "addr", "show", "dev", ifb_name_}).out);
  ASSERT_TRUE(addrs.is_array() && addrs.size() == 1) << addrs.dump();
  EXPECT_TRUE(addrs[0]["addr_info"].empty()) << addrs.dump();

  // Adoption: same device, its HTB tree kept; alias and state put back.
  run({"tc", "qdisc", "add", "dev", ifb_name_, "root", "handle", "1:", "htb", "default", "30"});
  auto again = ifbs.ensure(uplink_, "up0");
  ASSERT_OK(again);
  EXPECT_EQ(*again, *made);
  run({"ip", "link", "set", ifb_name_, "down"});
  run({"ip", "link", "set", ifb_name_, "alias", "someone else's"});
  auto renamed = ifbs.ensure(uplink_, "wan0");  // the uplink was renamed meanwhile
  ASSERT_OK(renamed);
  EXPECT_EQ(*renamed, *made);
  l = link(ifb_name_);
  EXPECT_EQ(l["ifalias"], "netd ingress of wan0");
  EXPECT_TRUE(is_up(l)) << l.dump();
  std::string qdiscs = run({"tc", "qdisc", "show", "dev", ifb_name_}).out;
  EXPECT_NE(qdiscs.find("qdisc htb 1: root"), std::string::npos) << qdiscs;

  auto listed = ifbs.list();
  ASSERT_OK(listed);
  EXPECT_EQ(*listed, (std::map<int, int>{{uplink_, *made}}));

  ASSERT_OK(ifbs.remove(*made));
  EXPECT_TRUE(link(ifb_name_).is_null());
  ASSERT_OK(ifbs.remove(*made));  // gone: fine
  listed = ifbs.list();
  ASSERT_OK(listed);
  EXPECT_TRUE(listed->empty());
}

TEST_F(IfbTest, RefusesForeignDevicesAndBadInput) {
  IfbExecutor ifbs(*sock_);
  // A veth holding the name netd would give the IFB of ifindex 4242.
  const std::string taken = IfbControl::name_for(4242);
  run({"ip", "link", "add", taken, "type", "veth", "peer", "name", "xpeer"});
  EXPECT_ERR(ifbs.ensure(4242, "ghost0"), EEXIST, taken + ".*not an ifb \\(kind veth\\)");
  nlohmann::json l = link(taken);
  ASSERT_TRUE(l.is_object());
  EXPECT_EQ(l["linkinfo"]["info_kind"], "veth");  // untouched
  EXPECT_FALSE(l.contains("ifalias")) << l.dump();

  // An ifb that is not named as netd names them is not netd's either.
  run({"ip", "link", "add", "otherifb", "type", "ifb"});
  auto listed = ifbs.list();
  ASSERT_OK(listed);
  EXPECT_TRUE(listed->empty());

  // remove() deletes netd's IFBs only.
  EXPECT_ERR(ifbs.remove(uplink_), EINVAL, "up0 is not netd's IFB");
  EXPECT_ERR(ifbs.remove(l["ifindex"].get<int>()), EINVAL, "not netd's IFB");
  EXPECT_ERR(ifbs.remove(link("otherifb")["ifindex"].get<int>()), EINVAL, "otherifb is not netd's IFB");
  EXPECT_TRUE(link("up0").is_object());
  EXPECT_TRUE(link("otherifb").is_object());

  EXPECT_ERR(ifbs.ensure(0, "up0"), EINVAL, "no device");
  EXPECT_ERR(ifbs.ensure(uplink_, ""), EINVAL, "empty or too long");
  EXPECT_ERR(ifbs.ensure(uplink_, std::string(300, 'x')), EINVAL, "empty or too long");
  EXPECT_TRUE(link(ifb_name_).is_null());  // nothing made by the refusals
}

}  // namespace
}  // namespace netd::testing
