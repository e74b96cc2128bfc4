// decide_route_add: every check of a route request (device, gateway, prefix, src, quota, words), without a kernel.
#include "netd/policy/route_decision.h"

#include "tests/fixtures/test_macros.h"

namespace netd::policy {
namespace {

class RouteDecision : public ::testing::Test {
 protected:
  void SetUp() override {
    alice_.name = "alice";
    alice_.id = 7;
    alice_.uids = {1001};
    alice_.route_devices = {"uplink0", "uplink1"};
    alice_.route_prefixes = {*Prefix::parse("198.51.100.0/24"), *Prefix::parse("2001:db8:100::/48")};
    alice_.max_routes = 3;
    policy_.slices = {alice_};

    DeviceFacts up1;
    up1.exists = true;
    up1.addresses = {*Prefix::parse_interface("10.0.2.1/24"), *Prefix::parse_interface("2001:db8:2::1/64")};
    up1.on_link = {*Prefix::parse("10.0.2.0/24"), *Prefix::parse("2001:db8:2::/64")};
    facts_.devices["uplink1"] = up1;
    DeviceFacts up0;
    up0.exists = true;
    up0.addresses = {*Prefix::parse_interface("10.0.1.1/24")};
    up0.on_link = {*Prefix::parse("10.0.1.0/24")};
    facts_.devices["uplink0"] = up0;
  }

  RouteRequest req(const std::string& dst) {
    RouteRequest r;
    r.dst = *Prefix::parse(dst);
    return r;
  }

  Result<RouteVerdict> decide(const RouteRequest& r, bool replace = false) {
    return decide_route_add(policy_, alice_, r, facts_, replace);
  }

  Policy policy_;
  SliceSpec alice_;
  RouteFacts facts_;
};

TEST_F(RouteDecision, AllowsGatewayOnLinkOnNamedDevice) {
  auto r = req("198.51.100.0/24");
  r.gateway = *IpAddress::parse("10.0.2.2");
  r.dev = "uplink1";
  auto v = decide(r);
  ASSERT_OK(v);
  EXPECT_EQ(v->dev, "uplink1");
}

TEST_F(RouteDecision, ResolvesDeviceFromGateway) {
  auto r = req("198.51.100.0/25");
  r.gateway = *IpAddress::parse("10.0.1.9");
  auto v = decide(r);
  ASSERT_OK(v);
  EXPECT_EQ(v->dev, "uplink0");
}

TEST_F(RouteDecision, AllowsDeviceRouteAndIpv6) {
  auto r = req("198.51.100.0/24");
  r.dev = "uplink0";
  EXPECT_OK(decide(r));
  auto r6 = req("2001:db8:100::/64");
  r6.gateway = *IpAddress::parse("fe80::1");
  r6.dev = "uplink1";
  EXPECT_OK(decide(r6));
}

TEST_F(RouteDecision, RefusesDeviceNotInPolicy) {
  auto r = req("198.51.100.0/24");
  r.dev = "eth9";
  EXPECT_ERR(decide(r), EPERM, "device 'eth9' is not one of slice alice's route devices \\(uplink0, uplink1\\)");
}

TEST_F(RouteDecision, AllowedButMissingDeviceIsNotFound) {
  facts_.devices["uplink1"].exists = false;
  auto r = req("198.51.100.0/24");
  r.dev = "uplink1";
  auto v = decide(r);
  EXPECT_ERR(v, ENODEV, "device 'uplink1' does not exist");
  EXPECT_EQ(v.error().kind, ErrorKind::kNotFound);
}

TEST_F(RouteDecision, OwnVifIsAlwaysAllowed) {
  DeviceFacts vif;
  vif.exists = true;
  vif.own_vif = true;
  facts_.devices["tap7-0"] = vif;
  auto r = req("198.51.100.0/24");
  r.dev = "tap7-0";
  EXPECT_OK(decide(r));
}

TEST_F(RouteDecision, RefusesPrefixOutsideRoutePrefixes) {
  auto r = req("203.0.113.0/24");
  r.dev = "uplink1";
  EXPECT_ERR(decide(r), EPERM, "203.0.113.0/24 is outside slice alice's route prefixes \\(198.51.100.0/24, ");
  auto wider = req("198.51.0.0/16");  // contains the allowed prefix, but is not inside it
  wider.dev = "uplink1";
  EXPECT_ERR(decide(wider), EPERM, "outside slice alice's route prefixes");
}

TEST_F(RouteDecision, RefusesGatewayNotOnLink) {
  auto r = req("198.51.100.0/24");
  r.gateway = *IpAddress::parse("10.9.9.9");
  r.dev = "uplink1";
  EXPECT_ERR(decide(r), EPERM, "gateway 10.9.9.9 is not on-link on uplink1 \\(its prefixes: 10.0.2.0/24");
  r.dev.clear();
  EXPECT_ERR(decide(r), EPERM, "gateway 10.9.9.9 is not on-link on any device slice alice may use");
}

TEST_F(RouteDecision, RefusesGatewayOfOtherFamily) {
  auto r = req("198.51.100.0/24");
  r.gateway = *IpAddress::parse("2001:db8:2::2");
  EXPECT_ERR(decide(r), EINVAL, "not of the same family");
}

TEST_F(RouteDecision, RefusesSrcNotOnDevice) {
  auto r = req("198.51.100.0/24");
  r.dev = "uplink1";
  r.src = *IpAddress::parse("10.0.1.1");  // uplink0's address
  EXPECT_ERR(decide(r), EPERM, "src 10.0.1.1 is not an address of uplink1");
  r.src = *IpAddress::parse("10.0.2.1");
  EXPECT_OK(decide(r));
}

TEST_F(RouteDecision, NeedsGatewayOrDevice) {
  EXPECT_ERR(decide(req("198.51.100.0/24")), EINVAL, "needs 'via GATEWAY' or 'dev DEVICE'");
}

TEST_F(RouteDecision, SpecialTypesTakeNoNextHop) {
  auto r = req("198.51.100.0/24");
  r.type = RouteType::kBlackhole;
  EXPECT_OK(decide(r));
  r.dev = "uplink1";
  EXPECT_ERR(decide(r), EINVAL, "blackhole routes take no gateway, device or source");
  auto outside = req("203.0.113.0/24");
  outside.type = RouteType::kUnreachable;
  EXPECT_ERR(decide(outside), EPERM, "outside");
}

TEST_F(RouteDecision, QuotaCountsTheTable) {
  auto r = req("198.51.100.0/24");
  r.dev = "uplink1";
  facts_.routes_in_table = 2;
  EXPECT_OK(decide(r));
  facts_.routes_in_table = 3;
  auto v = decide(r);
  EXPECT_ERR(v, EDQUOT, "slice alice has 3 routes, its limit \\(max_routes = 3\\)");
  EXPECT_EQ(v.error().kind, ErrorKind::kResourceExhausted);
  // Replacing an existing route adds none.
  facts_.replaces_existing = true;
  EXPECT_OK(decide(r, /*replace=*/true));
  EXPECT_ERR(decide(r, /*replace=*/false), EDQUOT, "max_routes");
}

TEST_F(RouteDecision, MtuBounds) {
  auto r = req("198.51.100.0/24");
  r.dev = "uplink1";
  r.mtu = 67;
  EXPECT_ERR(decide(r), EINVAL, "mtu 67 is outside 68..65535");
  r.mtu = 1400;
  EXPECT_OK(decide(r));
  auto r6 = req("2001:db8:100::/64");
  r6.dev = "uplink1";
  r6.mtu = 1000;
  EXPECT_ERR(decide(r6), EINVAL, "outside 1280..65535");
}

}  // namespace
}  // namespace netd::policy
