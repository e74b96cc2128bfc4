// varlink::validate against the generated schemas: the messages clients see for malformed
// parameters, which error comes first, null for optional fields, and the typed decoders.
#include "lib/varlink/schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lib/varlink/api/qdiscs.h"
#include "lib/varlink/api/routes.h"
#include "lib/varlink/api/shaping.h"
#include "lib/varlink/api/vifs.h"
#include "lib/varlink/idl.h"

namespace netd::varlink {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

// The refusal for params against the method's parameter schema ("" when accepted).
template <class Method>
std::string refusal(json params) {
  auto s = validate(*Method::schema().in, params, "parameters");
  if (s.ok()) return "";
  EXPECT_EQ(s.error().code, EINVAL);
  EXPECT_EQ(s.error().kind, ErrorKind::kInvalidArgument);
  return s.error().message;
}

TEST(Schema, MessagesNameTheFieldAndWhatWasExpected) {
  using api::routes::Add;
  EXPECT_EQ(refusal<Add>(json::array()), "parameters must be an object");
  EXPECT_EQ(refusal<Add>({{"route", {{"dst", "10.0.0.0/8"}}}, {"x", 1}}), "unknown field 'x' in parameters");
  EXPECT_EQ(refusal<Add>({{"route", {{"dst", "10.0.0.0/8"}}}, {"replace", "yes"}}),
            "field 'replace' in parameters must be a boolean");
  EXPECT_EQ(refusal<Add>(json::object()), "missing field 'route' in parameters");
  EXPECT_EQ(refusal<Add>({{"route", {{"dst", 7}}}}), "field 'dst' in route must be a string");
  EXPECT_EQ(refusal<Add>({{"route", {{"dst", "10.0.0.0/8"}, {"table", 254}}}}), "unknown field 'table' in route");
  EXPECT_EQ(refusal<Add>({{"route", json::object()}}), "missing field 'dst' in route");
  EXPECT_EQ(refusal<Add>({{"route", 1}}), "field 'route' in parameters must be an object");
  EXPECT_EQ(refusal<Add>({{"route", {{"dst", "10.0.0.0/8"}, {"metric", 1.5}}}}),
            "field 'metric' in route must be an integer");
  EXPECT_EQ(refusal<Add>({{"route", {{"dst", "10.0.0.0/8"}, {"metric", 7}}}, {"replace", true}}), "");
}

TEST(Schema, OuterLevelFirstThenSortedKeysThenMissing) {
  using api::routes::Add;
  // Both levels wrong: the outer error wins.
  EXPECT_EQ(refusal<Add>({{"route", {{"dst", 7}}}, {"replace", "yes"}}),
            "field 'replace' in parameters must be a boolean");
  // Two wrong keys at one level: the first in sorted order.
  EXPECT_EQ(refusal<Add>({{"route", {{"gateway", 1}, {"dev", 2}, {"dst", "x"}}}}),
            "field 'dev' in route must be a string");
  // A wrong key beats a missing one.
  EXPECT_EQ(refusal<Add>({{"route", {{"metric", "x"}}}}), "field 'metric' in route must be an integer");
  // An unknown key that sorts after a wrongly typed one: the wrongly typed one.
  EXPECT_EQ(refusal<Add>({{"route", {{"dst", 1}, {"zzz", 1}}}}), "field 'dst' in route must be a string");
}

TEST(Schema, NullMeansAbsentForOptionalFieldsOnly) {
  using api::routes::Add;
  json params = {{"route", {{"dst", "10.0.0.0/8"}, {"dev", nullptr}, {"metric", nullptr}}}, {"replace", nullptr}};
  ASSERT_TRUE(validate(*Add::schema().in, params, "parameters").ok());
  EXPECT_EQ(params, json({{"route", {{"dst", "10.0.0.0/8"}}}}));
  auto in = Add::decode(params);
  EXPECT_EQ(in.route.dst, "10.0.0.0/8");
  EXPECT_FALSE(in.route.dev.has_value());
  EXPECT_FALSE(in.replace.has_value());

  EXPECT_EQ(refusal<Add>({{"route", {{"dst", nullptr}}}}), "field 'dst' in route must be a string");
  EXPECT_EQ(refusal<Add>({{"route", nullptr}}), "field 'route' in parameters must be an object");
  EXPECT_EQ(refusal<api::shaping::Set>({{"rate", nullptr}, {"ceil", nullptr}}), "");
}

TEST(Schema, IntegersAreSigned64Bit) {
  using api::qdiscs::Replace;
  json base = {{"dev", "tun7-0"}, {"kind", "tbf"}};
  json p = base;
  p["rate"] = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(refusal<Replace>(p), "");
  p["rate"] = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1;
  EXPECT_EQ(refusal<Replace>(p), "field 'rate' in parameters must be an integer of at most 2^63-1");
  p["rate"] = -1;
  EXPECT_EQ(refusal<Replace>(p), "");  // the range of a value is the handler's to judge
  p["rate"] = true;
  EXPECT_EQ(refusal<Replace>(p), "field 'rate' in parameters must be an integer");
}

TEST(Schema, ArraysOfTypesNameTheElement) {
  using api::vifs::Add;
  EXPECT_EQ(refusal<Add>({{"kind", "tun"}, {"addresses", {{{"address", "10.7.0.1/30"}}}}}), "");
  EXPECT_EQ(refusal<Add>({{"kind", "tun"}, {"addresses", {{{"address", "10.7.0.1/30"}}, {{"address", 1}}}}}),
            "field 'address' in addresses[1] must be a string");
  EXPECT_EQ(refusal<Add>({{"kind", "tun"}, {"addresses", {{{"address", "10.7.0.1/30"}, {"x", 1}}}}}),
            "unknown field 'x' in addresses[0]");
  EXPECT_EQ(refusal<Add>({{"kind", "tun"}, {"addresses", {"10.7.0.1/30"}}}),
            "element 0 of field 'addresses' in parameters must be an object");
  EXPECT_EQ(refusal<Add>({{"kind", "tun"}, {"addresses", "10.7.0.1/30"}}),
            "field 'addresses' in parameters must be an array");
  json p = {{"kind", "tap"}, {"addresses", {{{"address", "10.7.0.1/30"}, {"peer", nullptr}}}}, {"mtu", 1400}};
  ASSERT_TRUE(validate(*Add::schema().in, p, "parameters").ok());
  auto in = Add::decode(p);
  ASSERT_TRUE(in.addresses.has_value());
  ASSERT_EQ(in.addresses->size(), 1u);
  EXPECT_EQ((*in.addresses)[0].address, "10.7.0.1/30");
  EXPECT_FALSE((*in.addresses)[0].peer.has_value());
  EXPECT_EQ(in.mtu, 1400);
  EXPECT_FALSE(in.up.has_value());
}

TEST(Schema, NarrowingNamesTheField) {
  EXPECT_EQ(*to_u32("mtu", 1500), 1500u);
  EXPECT_THAT(to_u32("mtu", -1).error().message, HasSubstr("mtu must be 0..4294967295"));
  EXPECT_THAT(to_u32("metric", int64_t{1} << 33).error().message, HasSubstr("metric must be 0..4294967295"));
  EXPECT_EQ(*to_u64("rate", int64_t{1} << 40), uint64_t{1} << 40);
  EXPECT_THAT(to_u64("rate", -5).error().message, HasSubstr("rate must be 0..9223372036854775807"));
  auto none = to_u32("mtu", std::optional<int64_t>());
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(Schema, EveryServedMethodHasASchemaAndItsInterfaceText) {
  ASSERT_FALSE(all_method_schemas().empty());
  for (const MethodSchema* m : all_method_schemas()) {
    ASSERT_NE(m->in, nullptr) << m->name;
    ASSERT_NE(m->out, nullptr) << m->name;
    EXPECT_EQ(find_method_schema(m->name), m);
    std::string_view iface = m->name.substr(0, m->name.rfind('.'));
    bool described = false;
    for (const auto& d : kInterfaceDescriptions)
      if (d.name == iface) described = d.description.find("method " + std::string(m->name.substr(iface.size() + 1))) !=
                                       std::string::npos;
    EXPECT_TRUE(described) << m->name;
  }
  EXPECT_NE(find_method_schema("org.varlink.service.GetInterfaceDescription"), nullptr);
  EXPECT_EQ(find_method_schema("io.netd.Nope.Gone"), nullptr);
}

}  // namespace
}  // namespace netd::varlink
