// sliceip qdisc show output: tc-like text and -j JSON from sample io.netd.Qdiscs.List replies.
#include "tools/sliceip/qdisc_print.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/fixtures/test_macros.h"
#include "tests/unit/common_cli/cli_test_helpers.h"

namespace sliceip {
namespace {

using netd::testing::printed;
using nlohmann::json;

const GlobalOptions kText{};
const GlobalOptions kJson{.json = true};

const json kTbf = json::parse(R"({"dev":"tun7-0","kind":"tbf","handle":"2:","rate":10000000,"burst":10240,
    "limit":72740,"bytes":1250000,"packets":893,"drops":12,"overlimits":2047,"requeues":0,"backlog":1500,"qlen":1})");
const json kHtb = json::parse(R"({"dev":"tap7-0","kind":"htb","handle":"1:","rate":20000000,"burst":15140,
    "bytes":0,"packets":0,"drops":0,"overlimits":0,"requeues":0,"backlog":0,"qlen":0})");
const json kDefault = json::parse(R"({"dev":"tun7-1","kind":"pfifo_fast","handle":"0:","bytes":84,"packets":1,
    "drops":0,"overlimits":0,"requeues":0,"backlog":0,"qlen":0})");
const json kReply = {{"qdiscs", json::array({kTbf, kHtb, kDefault})}};

TEST(QdiscShow, TextLikeTcDashS) {
  EXPECT_EQ(printed(print_qdisc_list({}, kReply, kText)),
            "qdisc tbf 2: dev tun7-0 root rate 10mbit burst 10KiB limit 72740b\n"
            " Sent 1250000 bytes 893 pkt (dropped 12, overlimits 2047 requeues 0)\n"
            " backlog 1500b 1p\n"
            "qdisc htb 1: dev tap7-0 root rate 20mbit burst 15140b\n"
            " Sent 0 bytes 0 pkt (dropped 0, overlimits 0 requeues 0)\n"
            " backlog 0b 0p\n"
            "qdisc pfifo_fast 0: dev tun7-1 root\n"
            " Sent 84 bytes 1 pkt (dropped 0, overlimits 0 requeues 0)\n"
            " backlog 0b 0p\n");
  EXPECT_EQ(printed(print_qdisc_list({}, {{"qdiscs", json::array()}}, kText)), "");
}

TEST(QdiscShow, JsonKeepsNetdsKeysInOrder) {
  EXPECT_EQ(printed(print_qdisc_list({}, {{"qdiscs", json::array({kTbf, kDefault})}}, kJson)),
            R"([{"dev":"tun7-0","kind":"tbf","handle":"2:","rate":10000000,"burst":10240,"limit":72740,)"
            R"("bytes":1250000,"packets":893,"drops":12,"overlimits":2047,"requeues":0,"backlog":1500,"qlen":1},)"
            R"({"dev":"tun7-1","kind":"pfifo_fast","handle":"0:","bytes":84,"packets":1,"drops":0,)"
            R"("overlimits":0,"requeues":0,"backlog":0,"qlen":0}])"
            "\n");
}

TEST(QdiscShow, OddRepliesDoNotThrow) {
  EXPECT_EQ(printed(print_qdisc_list({}, json::object(), kText)), "error: unexpected reply from netd: no 'qdiscs' list");
  json odd = {{"qdiscs", json::array({json{{"dev", 7}, {"rate", "fast"}}})}};
  EXPECT_EQ(printed(print_qdisc_list({}, odd, kText)),
            "qdisc ? ? dev ? root\n Sent ? bytes ? pkt (dropped ?, overlimits ? requeues ?)\n backlog ?b ?p\n");
}

}  // namespace
}  // namespace sliceip
