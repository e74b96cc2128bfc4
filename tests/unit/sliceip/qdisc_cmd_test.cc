// sliceip qdisc: tc-like words → exact io.netd.Qdiscs requests (rates in bit/s, sizes in
// bytes, times in microseconds), and the syntax errors.
#include "tools/sliceip/qdisc_cmd.h"

#include <gtest/gtest.h>

#include "tests/fixtures/test_macros.h"
#include "tests/unit/sliceip/parse_helpers.h"
#include "tools/sliceip/print.h"

namespace sliceip {
namespace {

using testing::error_of;
using testing::expect_request;
using testing::ParseErrorCase;
using testing::RequestCase;

class QdiscRequestTest : public ::testing::TestWithParam<RequestCase> {};

TEST_P(QdiscRequestTest, BuildsExactRequest) { expect_request(GetParam()); }

const RequestCase kRequestCases[] = {
    {{"qdisc", "replace", "dev", "tun7-0", "root", "tbf", "rate", "10mbit", "burst", "10kb", "latency", "50ms"},
     "io.netd.Qdiscs.Replace",
     R"({"dev":"tun7-0","kind":"tbf","rate":10000000,"burst":10240,"latency":50000})"},
    // tc takes root before dev too, and the parameters in any order.
    {{"qdisc", "replace", "root", "dev", "tap7-1", "tbf", "limit", "1MiB", "burst", "1514", "rate", "1gbit"},
     "io.netd.Qdiscs.Replace",
     R"({"dev":"tap7-1","kind":"tbf","rate":1000000000,"burst":1514,"limit":1048576})"},
    {{"qdisc", "replace", "dev", "tun7-0", "root", "tbf", "rate", "1mbps", "burst", "3000b", "latency", "1s"},
     "io.netd.Qdiscs.Replace",
     R"({"dev":"tun7-0","kind":"tbf","rate":8000000,"burst":3000,"latency":1000000})"},
    {{"qdisc", "replace", "dev", "tap7-0", "root", "htb", "rate", "20Mbit"},
     "io.netd.Qdiscs.Replace",
     R"({"dev":"tap7-0","kind":"htb","rate":20000000})"},
    // netd judges the values: these parse.
    {{"qdisc", "replace", "dev", "tun7-0", "root", "tbf", "rate", "0", "burst", "1"},
     "io.netd.Qdiscs.Replace",
     R"({"dev":"tun7-0","kind":"tbf","rate":0,"burst":1})"},
    {{"qdisc", "del", "dev", "tun7-0", "root"}, "io.netd.Qdiscs.Delete", R"({"dev":"tun7-0"})"},
    {{"qdisc", "delete", "root", "dev", "tun7-0"}, "io.netd.Qdiscs.Delete", R"({"dev":"tun7-0"})"},
    {{"qdisc", "show"}, "io.netd.Qdiscs.List", R"({})"},
    {{"qdisc", "list"}, "io.netd.Qdiscs.List", R"({})"},
    {{"qdisc"}, "io.netd.Qdiscs.List", R"({})"},
    {{"qdisc", "show", "dev", "tap7-0"}, "io.netd.Qdiscs.List", R"({"dev":"tap7-0"})"},
    // Any device name is sent: only netd knows which are the slice's.
    {{"qdisc", "del", "dev", "uplink0", "root"}, "io.netd.Qdiscs.Delete", R"({"dev":"uplink0"})"},
};

INSTANTIATE_TEST_SUITE_P(Requests, QdiscRequestTest, ::testing::ValuesIn(kRequestCases));

TEST(QdiscPlan, ReplaceAndDeletePrintNothingShowPrintsTheList) {
  auto replace = testing::parse({"qdisc", "replace", "dev", "tun7-0", "root", "htb", "rate", "1mbit"});
  ASSERT_OK(replace);
  EXPECT_EQ(replace->print, print_nothing);
  auto show = testing::parse({"-j", "qdisc", "show"});
  ASSERT_OK(show);
  EXPECT_TRUE(show->options.json);
  EXPECT_NE(show->print, print_nothing);
}

class QdiscErrorTest : public ::testing::TestWithParam<ParseErrorCase> {};

TEST_P(QdiscErrorTest, ExactMessage) {
  EXPECT_EQ(error_of(parse_command_line(GetParam().words)), GetParam().message);
}

const ParseErrorCase kErrorCases[] = {
    {{"qdisc", "replace"}, "'qdisc replace' needs 'dev VIF': one of the slice's vifs"},
    {{"qdisc", "replace", "root", "tbf"}, "'qdisc replace' needs 'dev VIF': one of the slice's vifs"},
    {{"qdisc", "replace", "dev", "tun7-0", "tbf", "rate", "1mbit"},
     "'qdisc replace' needs 'root': a slice sets only the root qdisc of its vifs"},
    {{"qdisc", "replace", "dev", "tun7-0", "root"}, "'qdisc replace' needs a qdisc kind: tbf or htb"},
    {{"qdisc", "replace", "dev", "tun7-0", "root", "fq_codel"},
     "unknown qdisc kind 'fq_codel' (a slice's vif takes tbf or htb)"},
    {{"qdisc", "replace", "dev", "tun7-0", "root", "TBF", "rate", "1mbit"},
     "unknown qdisc kind 'TBF' (a slice's vif takes tbf or htb)"},
    {{"qdisc", "replace", "dev", "tun7-0", "parent", "1:1", "tbf"},
     "'parent' cannot be given: a slice sets the root qdisc of its vifs, whose handle is netd's"},
    {{"qdisc", "replace", "dev", "tun7-0", "root", "handle", "5:", "tbf"},
     "'handle' cannot be given: a slice sets the root qdisc of its vifs, whose handle is netd's"},
    {{"qdisc", "replace", "dev", "tun7-0", "dev", "tun7-1", "root", "tbf"}, "'dev' is given twice"},
    {{"qdisc", "replace", "dev", "tun7-0", "root", "root", "tbf"}, "'root' is given twice"},
    {{"qdisc", "replace", "dev", "tun7-0", "root", "tbf", "burst", "10kb", "latency", "50ms"},
     "'qdisc replace ... tbf' needs 'rate RATE'"},
    {{"qdisc", "replace", "dev", "tun7-0", "root", "tbf", "rate"}, "'rate' needs a value"},
    {{"qdisc", "replace", "dev", "tun7-0", "root", "tbf", "rate", "fast"},
     "'rate': 'fast' is not a rate (e.g. 50mbit)"},
    {{"qdisc", "replace", "dev", "tun7-0", "root", "tbf", "rate", "10Mbps"},
     "'rate': '10Mbps': unknown unit 'Mbps' for a rate (e.g. 50mbit)"},
    {{"qdisc", "replace", "dev", "tun7-0", "root", "tbf", "rate", "1mbit", "burst", "big"},
     "'burst': 'big' is not a size (e.g. 32MiB)"},
    {{"qdisc", "replace", "dev", "tun7-0", "root", "tbf", "rate", "1mbit", "latency", "5min"},
     "'latency': '5min': unknown unit 'min' for a time (e.g. 50ms)"},
    {{"qdisc", "replace", "dev", "tun7-0", "root", "tbf", "rate", "1mbit", "rate", "2mbit"},
     "'rate' is given twice"},
    {{"qdisc", "replace", "dev", "tun7-0", "root", "tbf", "rate", "1mbit", "peakrate", "2mbit"},
     "unknown tbf parameter 'peakrate' (tbf takes rate, burst, and latency or limit)"},
    {{"qdisc", "replace", "dev", "tun7-0", "root", "tbf", "rate", "1mbit", "ceil", "2mbit"},
     "unknown tbf parameter 'ceil' (tbf takes rate, burst, and latency or limit)"},
    {{"qdisc", "replace", "dev", "tun7-0", "root", "htb", "rate", "1mbit", "ceil", "2mbit"},
     "'ceil' is not offered: htb's one class has nobody to borrow from, so its rate is its ceiling"},
    {{"qdisc", "replace", "dev", "tun7-0", "root", "htb", "default", "1"},
     "unknown htb parameter 'default' (htb takes rate)"},
    {{"qdisc", "replace", "dev", "tun7-0", "root", "htb", "rate", "1mbit", "burst", "10kb"},
     "unknown htb parameter 'burst' (htb takes rate)"},
    {{"qdisc", "replace", "root", "htb", "rate", "1mbit", "dev", "tun7-0"},
     "'qdisc replace' needs 'dev VIF': one of the slice's vifs"},
    {{"qdisc", "replace", "dev", "tun7-0", "htb", "rate", "1mbit", "root"},
     "'qdisc replace' needs 'root': a slice sets only the root qdisc of its vifs"},
    {{"qdisc", "replace", "dev", "tun7-0", "root", "htb", "rate", "1mbit", "root"},
     "'root' comes before the qdisc kind, as in tc"},
    {{"qdisc", "del", "dev", "tun7-0"}, "'qdisc del' needs 'root': a slice sets only the root qdisc of its vifs"},
    {{"qdisc", "del", "root"}, "'qdisc del' needs 'dev VIF': one of the slice's vifs"},
    {{"qdisc", "del", "dev", "tun7-0", "root", "tbf"}, "unknown argument 'tbf' for 'qdisc del'"},
    {{"qdisc", "show", "tun7-0"}, "unknown argument 'tun7-0' for 'qdisc show'"},
    {{"qdisc", "show", "dev"}, "'dev' needs a device name"},
    {{"qdisc", "show", "dev", "a/b"}, "'dev' needs a device name, got 'a/b'"},
    {{"qdisc", "add", "dev", "tun7-0", "root", "tbf"},
     "unknown command 'add' for 'qdisc' (try 'sliceip qdisc help')"},
    {{"qdisc", "change", "dev", "tun7-0", "root", "tbf"},
     "unknown command 'change' for 'qdisc' (try 'sliceip qdisc help')"},
    {{"-a", "qdisc", "show"}, "-a applies only to 'slice show', 'slice list' and 'fleet status'"},
};

INSTANTIATE_TEST_SUITE_P(Errors, QdiscErrorTest, ::testing::ValuesIn(kErrorCases));

}  // namespace
}  // namespace sliceip
