// sliceip address: words → exact io.netd.Vifs address requests, and the syntax errors.
#include "tools/sliceip/addr_cmd.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/fixtures/test_macros.h"
#include "tests/unit/sliceip/parse_helpers.h"

namespace sliceip {
namespace {

using nlohmann::json;
using testing::error_of;
using testing::expect_request;
using testing::parse;
using testing::ParseErrorCase;
using testing::RequestCase;

class AddressRequestTest : public ::testing::TestWithParam<RequestCase> {};

TEST_P(AddressRequestTest, BuildsExactRequest) { expect_request(GetParam()); }

const RequestCase kRequestCases[] = {
    {{"address", "add", "10.7.0.1/30", "dev", "tap7-0"},
     "io.netd.Vifs.AddAddress",
     R"({"name":"tap7-0","address":{"address":"10.7.0.1/30"}})"},
    {{"addr", "add", "10.7.0.1/30", "peer", "10.7.0.2", "dev", "tun7-0"},
     "io.netd.Vifs.AddAddress",
     R"({"name":"tun7-0","address":{"address":"10.7.0.1/30","peer":"10.7.0.2"}})"},
    // any order, as ip; addresses in canonical form
    {{"a", "add", "dev", "tap7-0", "fd00:7:0::1/64"},
     "io.netd.Vifs.AddAddress",
     R"({"name":"tap7-0","address":{"address":"fd00:7::1/64"}})"},
    {{"address", "add", "peer", "fd00:7::2", "fd00:7::1/128", "dev", "tun7-0"},
     "io.netd.Vifs.AddAddress",
     R"({"name":"tun7-0","address":{"address":"fd00:7::1/128","peer":"fd00:7::2"}})"},
    {{"-4", "address", "add", "10.7.0.1/24", "dev", "tap7-0"},
     "io.netd.Vifs.AddAddress",
     R"({"name":"tap7-0","address":{"address":"10.7.0.1/24"}})"},
    {{"address", "del", "10.7.0.1/30", "dev", "tap7-0"},
     "io.netd.Vifs.DeleteAddress",
     R"({"name":"tap7-0","address":"10.7.0.1/30"})"},
    {{"addr", "delete", "dev", "tap7-0", "fd00:7::1/64"},
     "io.netd.Vifs.DeleteAddress",
     R"({"name":"tap7-0","address":"fd00:7::1/64"})"},
    // show: every vif, or one by name (with or without `dev`)
    {{"address", "show"}, "io.netd.Vifs.List", R"({})"},
    {{"address", "list"}, "io.netd.Vifs.List", R"({})"},
    {{"address"}, "io.netd.Vifs.List", R"({})"},
    {{"a"}, "io.netd.Vifs.List", R"({})"},
    {{"address", "show", "dev", "tap7-0"}, "io.netd.Vifs.List", R"({"name":"tap7-0"})"},
    {{"addr", "show", "tap7-0"}, "io.netd.Vifs.List", R"({"name":"tap7-0"})"},
    {{"-6", "addr", "show"}, "io.netd.Vifs.List", R"({})"},
};

INSTANTIATE_TEST_SUITE_P(Requests, AddressRequestTest, ::testing::ValuesIn(kRequestCases));

class AddressErrorTest : public ::testing::TestWithParam<ParseErrorCase> {};

TEST_P(AddressErrorTest, ExactMessage) {
  EXPECT_EQ(error_of(parse_command_line(GetParam().words)), GetParam().message);
}

const ParseErrorCase kErrorCases[] = {
    {{"address", "add", "dev", "tap7-0"}, "'address add' needs ADDR/LEN"},
    {{"address", "add", "10.7.0.1/30"}, "'address add' needs 'dev VIF'"},
    {{"address", "del", "10.7.0.1/30"}, "'address del' needs 'dev VIF'"},
    {{"address", "add", "10.7.0.1", "dev", "tap7-0"},
     "'address add' needs ADDR/LEN, got '10.7.0.1' (a single address is 10.7.0.1/32)"},
    {{"address", "add", "fd00::1", "dev", "tap7-0"},
     "'address add' needs ADDR/LEN, got 'fd00::1' (a single address is fd00::1/128)"},
    {{"address", "add", "10.7.0.1/33", "dev", "tap7-0"},
     "'address add' needs ADDR/LEN, got '10.7.0.1/33'"},
    {{"address", "add", "10.7.0.1/30", "10.7.0.5/30", "dev", "tap7-0"},
     "'address add' takes one ADDR/LEN, got '10.7.0.1/30' and '10.7.0.5/30'"},
    {{"address", "add", "10.7.0.1/30", "dev"}, "'dev' needs a device name"},
    {{"address", "add", "10.7.0.1/30", "dev", "a/b"}, "'dev' needs a device name, got 'a/b'"},
    {{"address", "add", "10.7.0.1/30", "dev", "x", "dev", "y"}, "'dev' is given twice"},
    {{"address", "add", "10.7.0.1/30", "peer"}, "'peer' needs an address"},
    {{"address", "add", "10.7.0.1/30", "peer", "10.7.0.2/30", "dev", "x"},
     "'peer' needs an address, got '10.7.0.2/30'"},
    {{"address", "add", "10.7.0.1/30", "peer", "10.7.0.2", "peer", "10.7.0.3", "dev", "x"},
     "'peer' is given twice"},
    {{"address", "add", "10.7.0.1/30", "peer", "fd00::2", "dev", "x"},
     "'peer fd00::2' is IPv6 but '10.7.0.1/30' is IPv4"},
    {{"address", "del", "10.7.0.1/30", "peer", "10.7.0.2", "dev", "x"},
     "'peer' is not needed: 'address del' finds the address by ADDR/LEN"},
    {{"-6", "address", "add", "10.7.0.1/30", "dev", "x"},
     "'10.7.0.1/30' is not an IPv6 address (-6 was given)"},
    {{"-4", "address", "del", "fd00::1/64", "dev", "x"},
     "'fd00::1/64' is not an IPv4 address (-4 was given)"},
    // ip-address(8) words netd does not take
    {{"address", "add", "10.7.0.1/30", "dev", "x", "label", "x:1"},
     "unknown argument 'label' for 'address add'"},
    {{"address", "add", "10.7.0.1/30", "dev", "x", "scope", "host"},
     "unknown argument 'scope' for 'address add'"},
    {{"address", "add", "tap7-0", "10.7.0.1/30"}, "unknown argument 'tap7-0' for 'address add'"},
    {{"address", "show", "dev", "x", "y"}, "unknown argument 'y' for 'address show'"},
    {{"address", "show", "x", "dev", "y"}, "'dev' is given twice"},
    {{"address", "show", "up"}, "(parsed)"},  // "up" could be a device name: netd decides
    {{"address", "flush", "dev", "x"},
     "unknown command 'flush' for 'address' (try 'sliceip address help')"},
    {{"addr", "replace", "10.7.0.1/30", "dev", "x"},
     "unknown command 'replace' for 'addr' (try 'sliceip addr help')"},
};

INSTANTIATE_TEST_SUITE_P(Errors, AddressErrorTest, ::testing::ValuesIn(kErrorCases));

TEST(AddressCommand, PrintsNothingForChanges) {
  auto plan = parse({"address", "add", "10.7.0.1/30", "dev", "tap7-0"});
  ASSERT_OK(plan);
  auto text = plan->print(plan->parameters, json::object(), plan->options);
  ASSERT_OK(text);
  EXPECT_EQ(*text, "");
}

}  // namespace
}  // namespace sliceip
