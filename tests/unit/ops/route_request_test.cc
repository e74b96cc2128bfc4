// io.netd.Routes parameter values: what the IDL schema lets through but does not parse
// (the shape checks are varlink::validate's, tests/unit/varlink/schema_test.cc).
#include "netd/ops/route_request.h"

#include "netd/ops/vif_request.h"
#include "tests/fixtures/test_macros.h"

namespace netd::ops {
namespace {

using namespace std::string_literals;

api::routes::Route route(std::string dst) {
  api::routes::Route r;
  r.dst = std::move(dst);
  return r;
}

TEST(RouteRequest, ParsesEveryField) {
  api::routes::Route in = route("198.51.100.0/24");
  in.gateway = "10.0.2.2";
  in.dev = "uplink1";
  in.src = "10.0.2.1";
  in.metric = 5;
  in.mtu = 1400;
  auto r = parse_route(in);
  ASSERT_OK(r);
  EXPECT_EQ(r->dst.to_string(), "198.51.100.0/24");
  EXPECT_EQ(r->gateway.to_string(), "10.0.2.2");
  EXPECT_EQ(r->dev, "uplink1");
  EXPECT_EQ(r->src.to_string(), "10.0.2.1");
  EXPECT_EQ(*r->metric, 5u);
  EXPECT_EQ(*r->mtu, 1400u);
}

// What the IDL's types cannot say: values that do not parse, or are out of range.
TEST(RouteRequest, RefusesBadValues) {
  auto with = [](auto change) {
    api::routes::Route r = route("198.51.100.0/24");
    change(r);
    return parse_route(r);
  };
  EXPECT_ERR(parse_route(route("198.51.100.1/24")), EINVAL, "dst: .*host bits");
  EXPECT_ERR(with([](auto& r) { r.gateway = "nope"; }), EINVAL, "gateway: 'nope'");
  EXPECT_ERR(with([](auto& r) { r.type = "nat"; }), EINVAL, "route type 'nat'");
  EXPECT_ERR(with([](auto& r) { r.metric = -1; }), EINVAL, "metric must be 0..");
  EXPECT_ERR(with([](auto& r) { r.metric = int64_t{1} << 33; }), EINVAL, "metric must be 0..");
  EXPECT_ERR(with([](auto& r) { r.dev = "a/b"; }), EINVAL, "not a device name");
  EXPECT_ERR(with([](auto& r) { r.dev = "0123456789abcdef"; }), EINVAL, "not a device name");
  // Found by fuzzing (tests/fuzz/varlink_server): names the kernel cannot have, among them one
  // whose NUL would have cut the name the kernel gets short of the one checked.
  for (const std::string& dev : {"a b"s, "a:1"s, ".."s, "uplink0\0x"s}) {
    SCOPED_TRACE(dev);
    auto parsed = with([&](auto& r) { r.dev = dev; });
    auto name = parse_device_name(dev, "name");
    ASSERT_FALSE(parsed.ok() || name.ok());
    // HasSubstr, not EXPECT_ERR's regex: the message quotes the name, NUL and all.
    EXPECT_THAT(parsed.error().message, testing::HasSubstr("is not a device name"));
    EXPECT_THAT(name.error().message, testing::HasSubstr("is not a device name"));
    EXPECT_EQ(parsed.error().code, EINVAL);
    EXPECT_EQ(name.error().code, EINVAL);
  }
  EXPECT_EQ(*parse_device_name("tap7-0", "name"), "tap7-0");
}

TEST(RouteRequest, Family) {
  EXPECT_EQ(*parse_family(std::nullopt), AF_UNSPEC);
  EXPECT_EQ(*parse_family("inet6"), AF_INET6);
  EXPECT_ERR(parse_family("ipx"), EINVAL, "family 'ipx'");
}

}  // namespace
}  // namespace netd::ops
