// vtuntap add / run: words → exact io.netd.Vifs.Add requests, and every usage error.
#include "tools/vtuntap/add_run.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/fixtures/test_macros.h"
#include "tests/unit/vtuntap/parse_helpers.h"

namespace vtuntap {
namespace {

using nlohmann::json;
using testing::error_of;
using testing::parse;
using testing::ParseErrorCase;

struct RequestCase {
  std::vector<std::string_view> words;
  std::string parameters;            // JSON text of the io.netd.Vifs.Add parameters
  std::vector<std::string> command;  // run: the program; add: empty
};

class AddRequestTest : public ::testing::TestWithParam<RequestCase> {};

TEST_P(AddRequestTest, BuildsExactRequest) {
  const RequestCase& c = GetParam();
  auto plan = parse_command_line(c.words);
  ASSERT_OK(plan);
  EXPECT_EQ(plan->method, "io.netd.Vifs.Add");
  EXPECT_EQ(plan->parameters, json::parse(c.parameters)) << plan->parameters.dump();
  if (c.command.empty()) {
    EXPECT_EQ(plan->kind, Plan::Kind::kCall);
    EXPECT_NE(plan->print, nullptr);
  } else {
    EXPECT_EQ(plan->kind, Plan::Kind::kExec);
    EXPECT_EQ(plan->command, c.command);
  }
}

const RequestCase kRequestCases[] = {
    // add: only the options given are sent
    {{"add", "tap", "--persist"}, R"({"kind":"tap","persist":true})", {}},
    {{"add", "tun", "--persist", "--up", "--multi-queue", "--mtu", "1400"},
     R"({"kind":"tun","persist":true,"up":true,"multi_queue":true,"mtu":1400})",
     {}},
    // the kind anywhere among the options; option=value spellings
    {{"add", "--persist", "--mtu=9000", "tap"}, R"({"kind":"tap","persist":true,"mtu":9000})", {}},
    // several addresses; --peer belongs to the --addr before it; canonical forms
    {{"add", "tun", "--addr", "10.7.0.1/30", "--peer", "10.7.0.2", "--addr", "fd00:7:0::1/64",
      "--persist"},
     R"({"kind":"tun","persist":true,"addresses":[{"address":"10.7.0.1/30","peer":"10.7.0.2"},
         {"address":"fd00:7::1/64"}]})",
     {}},
    {{"add", "tun", "--addr=10.7.0.1/30", "--mtu", "1400", "--peer=10.7.0.2", "--persist"},
     R"({"kind":"tun","persist":true,"mtu":1400,
         "addresses":[{"address":"10.7.0.1/30","peer":"10.7.0.2"}]})",
     {}},
    // host bits are kept: it is an interface address, not a route
    {{"add", "tap", "--addr", "10.7.0.9/29", "--persist"},
     R"({"kind":"tap","persist":true,"addresses":[{"address":"10.7.0.9/29"}]})",
     {}},
    {{"add", "tap", "--persist", "--persist", "--up", "--up"},
     R"({"kind":"tap","persist":true,"up":true})",
     {}},
    {{"add", "tap", "--mtu", "68", "--persist"}, R"({"kind":"tap","persist":true,"mtu":68})", {}},
    {{"add", "tap", "--mtu", "65535", "--persist"},
     R"({"kind":"tap","persist":true,"mtu":65535})",
     {}},
    // run: never persistent; everything after -- is the program's, even its options
    {{"run", "tun", "--", "prog"}, R"({"kind":"tun"})", {"prog"}},
    {{"run", "tap", "--addr", "10.7.0.1/24", "--up", "--", "prog", "--persist", "--", "-j"},
     R"({"kind":"tap","up":true,"addresses":[{"address":"10.7.0.1/24"}]})",
     {"prog", "--persist", "--", "-j"}},
    {{"run", "--multi-queue", "tun", "--", "sh", "-c", "exit 3"},
     R"({"kind":"tun","multi_queue":true})",
     {"sh", "-c", "exit 3"}},
};

INSTANTIATE_TEST_SUITE_P(Requests, AddRequestTest, ::testing::ValuesIn(kRequestCases));

class AddErrorTest : public ::testing::TestWithParam<ParseErrorCase> {};

TEST_P(AddErrorTest, ExactMessage) {
  EXPECT_EQ(error_of(parse_command_line(GetParam().words)), GetParam().message);
}

const ParseErrorCase kErrorCases[] = {
    // missing or bad kind
    {{"add"}, "'add' needs a kind: tun or tap"},
    {{"add", "--persist"}, "'add' needs a kind: tun or tap"},
    {{"run", "--", "prog"}, "'run' needs a kind: tun or tap"},
    {{"add", "tan", "--persist"}, "unknown kind 'tan': tun or tap"},
    {{"add", "TAP", "--persist"}, "unknown kind 'TAP': tun or tap"},
    {{"run", "veth", "--", "prog"}, "unknown kind 'veth': tun or tap"},
    {{"add", "tun", "tap", "--persist"}, "'add' takes one kind, got 'tun' and 'tap'"},
    {{"add", "tun", "tun7-0", "--persist"}, "unknown argument 'tun7-0' for 'add'"},
    // --peer without its --addr, or twice, or of the other family
    {{"add", "tun", "--peer", "10.7.0.2", "--persist"},
     "'--peer' belongs to an '--addr' given before it"},
    {{"add", "tun", "--peer", "10.7.0.2", "--addr", "10.7.0.1/30", "--persist"},
     "'--peer' belongs to an '--addr' given before it"},
    {{"add", "tun", "--addr", "10.7.0.1/30", "--peer", "10.7.0.2", "--peer", "10.7.0.3"},
     "'--addr 10.7.0.1/30' has two '--peer's"},
    {{"add", "tun", "--addr", "10.7.0.1/30", "--peer", "fd00::2", "--persist"},
     "'--peer fd00::2' is IPv6 but '--addr 10.7.0.1/30' is IPv4"},
    {{"add", "tun", "--addr", "10.7.0.1/30", "--peer", "10.7.0.2/30", "--persist"},
     "'--peer' needs an address, got '10.7.0.2/30'"},
    {{"add", "tun", "--addr", "10.7.0.1/30", "--peer"}, "'--peer' needs an address"},
    // bad values
    {{"add", "tun", "--addr", "10.7.0.1", "--persist"},
     "'--addr' needs ADDR/LEN, got '10.7.0.1' (a single address is 10.7.0.1/32)"},
    {{"add", "tun", "--addr", "fd00::1", "--persist"},
     "'--addr' needs ADDR/LEN, got 'fd00::1' (a single address is fd00::1/128)"},
    {{"add", "tun", "--addr", "10.7.0.1/33", "--persist"},
     "'--addr' needs ADDR/LEN, got '10.7.0.1/33'"},
    {{"add", "tun", "--addr", "default", "--persist"}, "'--addr' needs ADDR/LEN, got 'default'"},
    {{"add", "tun", "--addr"}, "'--addr' needs ADDR/LEN"},
    {{"add", "tun", "--addr="}, "'--addr' needs ADDR/LEN, got ''"},
    {{"add", "tun", "--mtu", "67", "--persist"}, "'--mtu' needs a number 68..65535, got '67'"},
    {{"add", "tun", "--mtu", "65536", "--persist"},
     "'--mtu' needs a number 68..65535, got '65536'"},
    {{"add", "tun", "--mtu", "big", "--persist"}, "'--mtu' needs a number 68..65535, got 'big'"},
    {{"add", "tun", "--mtu"}, "'--mtu' needs a number 68..65535"},
    {{"add", "tun", "--mtu", "1400", "--mtu", "1500", "--persist"}, "'--mtu' is given twice"},
    // add without --persist, or with a program
    {{"add", "tap"},
     "a device added without '--persist' would vanish when vtuntap exits: add '--persist', or "
     "use 'vtuntap run tap ... -- CMD' to hand it to a program"},
    {{"add", "tun", "--up", "--addr", "10.7.0.1/30"},
     "a device added without '--persist' would vanish when vtuntap exits: add '--persist', or "
     "use 'vtuntap run tun ... -- CMD' to hand it to a program"},
    {{"add", "tap", "--persist", "--", "prog"},
     "'add' starts no program: use 'vtuntap run ... -- CMD' to hand a new device to a program, or "
     "'vtuntap attach NAME -- CMD'"},
    // run without --, without a program, or persistent
    {{"run", "tap"}, "'run' needs '-- CMD [ARGS]': the program that gets the device as fd 3"},
    {{"run", "tap", "prog"}, "unknown argument 'prog' for 'run'"},
    {{"run", "tap", "--"}, "'run' needs a program after '--'"},
    {{"run", "tap", "--persist", "--", "prog"},
     "'run' makes a device that lives as long as the program holds it, so it takes no "
     "'--persist': use 'vtuntap add --persist' and 'vtuntap attach NAME -- CMD'"},
    // unknown options, including abbreviations and ip-tuntap's words
    {{"add", "tap", "--persist", "--bogus"}, "unknown option '--bogus' for 'add'"},
    {{"add", "tap", "--pers"}, "unknown option '--pers' for 'add'"},
    {{"add", "tap", "--multi_queue", "--persist"}, "unknown option '--multi_queue' for 'add'"},
    {{"add", "tap", "--user", "1001", "--persist"}, "unknown option '--user' for 'add'"},
    {{"add", "tap", "--name", "foo0", "--persist"}, "unknown option '--name' for 'add'"},
    {{"add", "tap", "--up=yes", "--persist"}, "unknown option '--up=yes' for 'add'"},
    {{"run", "tap", "-x", "--", "prog"}, "unknown option '-x' for 'run'"},
};

INSTANTIATE_TEST_SUITE_P(Errors, AddErrorTest, ::testing::ValuesIn(kErrorCases));

TEST(AddCommand, PrintsTheName) {
  auto plan = parse({"add", "tap", "--persist"});
  ASSERT_OK(plan);
  auto text = plan->print(json::parse(R"({"vif":{"name":"tap7-0","kind":"tap"}})"), plan->options);
  ASSERT_OK(text);
  EXPECT_EQ(*text, "tap7-0\n");
}

}  // namespace
}  // namespace vtuntap
