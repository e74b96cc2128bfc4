// Strict parsing of io.netd.Routes parameters.
#include "netd/ops/route_request.h"

#include "netd/ops/params.h"
#include "netd/ops/vif_request.h"
#include "tests/fixtures/test_macros.h"

namespace netd::ops {
namespace {

using nlohmann::json;
using namespace std::string_literals;

TEST(RouteRequest, ParsesEveryField) {
  auto r = parse_route(json{{"dst", "198.51.100.0/24"}, {"gateway", "10.0.2.2"}, {"dev", "uplink1"},
                            {"src", "10.0.2.1"}, {"metric", 5}, {"mtu", 1400}});
  ASSERT_OK(r);
  EXPECT_EQ(r->dst.to_string(), "198.51.100.0/24");
  EXPECT_EQ(r->gateway.to_string(), "10.0.2.2");
  EXPECT_EQ(r->dev, "uplink1");
  EXPECT_EQ(r->src.to_string(), "10.0.2.1");
  EXPECT_EQ(*r->metric, 5u);
  EXPECT_EQ(*r->mtu, 1400u);
}

TEST(RouteRequest, RefusesUnknownAndWrongTypedFields) {
  EXPECT_ERR(parse_route(json{{"dst", "198.51.100.0/24"}, {"table", 254}}), EINVAL, "unknown field 'table' in route");
  EXPECT_ERR(parse_route(json{{"dst", 42}}), EINVAL, "field 'dst' in route must be a string");
  EXPECT_ERR(parse_route(json{{"dst", "198.51.100.0/24"}, {"metric", "5"}}), EINVAL, "'metric' in route must be an integer");
  EXPECT_ERR(parse_route(json{{"dev", "x"}}), EINVAL, "missing field 'dst'");
  EXPECT_ERR(parse_route(json::array()), EINVAL, "route must be an object");
}

TEST(RouteRequest, RefusesBadValues) {
  EXPECT_ERR(parse_route(json{{"dst", "198.51.100.1/24"}}), EINVAL, "dst: .*host bits");
  EXPECT_ERR(parse_route(json{{"dst", "198.51.100.0/24"}, {"gateway", "nope"}}), EINVAL, "gateway: 'nope'");
  EXPECT_ERR(parse_route(json{{"dst", "198.51.100.0/24"}, {"type", "nat"}}), EINVAL, "route type 'nat'");
  EXPECT_ERR(parse_route(json{{"dst", "198.51.100.0/24"}, {"metric", -1}}), EINVAL, "metric must be 0..");
  EXPECT_ERR(parse_route(json{{"dst", "198.51.100.0/24"}, {"metric", 1ull << 33}}), EINVAL, "metric must be 0..");
  EXPECT_ERR(parse_route(json{{"dst", "198.51.100.0/24"}, {"dev", "a/b"}}), EINVAL, "not a device name");
  EXPECT_ERR(parse_route(json{{"dst", "198.51.100.0/24"}, {"dev", "0123456789abcdef"}}), EINVAL, "not a device name");
  // Found by fuzzing (tests/fuzz/varlink_server): names the kernel cannot have, among them one
  // whose NUL would have cut the name the kernel gets short of the one checked.
  for (const std::string& dev : {"a b"s, "a:1"s, ".."s, "uplink0\0x"s}) {
    SCOPED_TRACE(dev);
    auto route = parse_route(json{{"dst", "198.51.100.0/24"}, {"dev", dev}});
    auto name = parse_device_name(json{{"name", dev}}, "name");
    ASSERT_FALSE(route.ok() || name.ok());
    // HasSubstr, not EXPECT_ERR's regex: the message quotes the name, NUL and all.
    EXPECT_THAT(route.error().message, testing::HasSubstr("is not a device name"));
    EXPECT_THAT(name.error().message, testing::HasSubstr("is not a device name"));
    EXPECT_EQ(route.error().code, EINVAL);
    EXPECT_EQ(name.error().code, EINVAL);
  }
  EXPECT_EQ(*parse_device_name(json{{"name", "tap7-0"}}, "name"), "tap7-0");
}

TEST(RouteRequest, Family) {
  EXPECT_EQ(*parse_family(json::object()), AF_UNSPEC);
  EXPECT_EQ(*parse_family(json{{"family", "inet6"}}), AF_INET6);
  EXPECT_ERR(parse_family(json{{"family", "ipx"}}), EINVAL, "family 'ipx'");
}

TEST(Params, RequiredAndOptional) {
  EXPECT_OK(check_fields(json{{"route", json::object()}}, {{"route", FieldType::kObject, true}}, "parameters"));
  EXPECT_ERR(check_fields(json::object(), {{"route", FieldType::kObject, true}}, "parameters"), EINVAL,
             "missing field 'route' in parameters");
  EXPECT_ERR(check_fields(json{{"replace", 1}}, {{"replace", FieldType::kBool, false}}, "parameters"), EINVAL,
             "must be a boolean");
}

}  // namespace
}  // namespace netd::ops
