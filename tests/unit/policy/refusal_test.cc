// One test per refusal of the policy file (man/netd.policy.5, VALIDATION): each asserts EINVAL
// and a message naming the key at its line.
#include "netd/policy/loader.h"

#include "tests/unit/policy/policy_test_util.h"

namespace netd::policy {
namespace {

using testing::netd_table;
using testing::slice_table;
using testing::two_slices;

const char* const kAlice = "slice\\[alice\\]";
const char* const kBob = "slice\\[bob\\]";

std::string alice(const std::string& key) { return std::string(kAlice) + "\\." + key; }
std::string bob(const std::string& key) { return std::string(kBob) + "\\." + key; }

// --- Structure and types ---

TEST(Refuses, TomlSyntaxErrorWithLineAndColumn) {
  std::string doc = two_slices("socket = \"/run/x.sock\"\nsocket = \"/run/y.sock\"");
  EXPECT_ERR(parse_policy(doc, "test.toml"), EINVAL, "test\\.toml:4:[0-9]+: TOML syntax error: .*socket");
}

TEST(Refuses, UnknownKeyInNetd) {
  EXPECT_REFUSED(two_slices("colour = \"blue\""), "colour", "netd\\.colour", "unknown key \\(known: socket");
}

TEST(Refuses, UnknownKeyInSlice) {
  EXPECT_REFUSED(two_slices("", "", "max_route = 3"), "max_route =", bob("max_route"), "unknown key");
}

TEST(Refuses, NestedTableInSliceIsAnUnknownKey) {
  EXPECT_REFUSED(two_slices("", "", "[slice.extra]\nx = 1"), "[slice.extra]", bob("extra"), "unknown key");
}

TEST(Refuses, UnknownTopLevelTable) {
  std::string doc = two_slices() + "[routes]\nx = 1\n";
  EXPECT_REFUSED(doc, "[routes]", "routes", "unknown top-level key");
}

TEST(Refuses, UnknownTopLevelKey) {
  EXPECT_REFUSED("version = 2\n" + two_slices(), "version", "version", "unknown top-level key");
}

TEST(Refuses, WrongTypeStringForInteger) {
  std::string doc = netd_table() + "[[slice]]\nname = \"alice\"\nid = \"7\"\nuids = [1001]\n";
  EXPECT_REFUSED(doc, "id =", alice("id"), "expected an integer, got a string");
}

TEST(Refuses, WrongTypeIntegerForArray) {
  std::string doc = netd_table() + "[[slice]]\nname = \"alice\"\nid = 7\nuids = 1001\n";
  EXPECT_REFUSED(doc, "uids =", alice("uids"), "expected an array, got an integer");
}

TEST(Refuses, WrongTypeInsideArray) {
  std::string doc = netd_table() + "[[slice]]\nname = \"alice\"\nid = 7\nuids = [1001,\n \"bob\"]\n";
  EXPECT_REFUSED(doc, "\"bob\"", alice("uids"), "expected an integer, got a string");
}

TEST(Refuses, WrongTypeStringForBoolean) {
  EXPECT_REFUSED(two_slices("", "snat = \"yes\""), "snat", alice("snat"), "expected a boolean.*got a string");
}

TEST(Refuses, WrongTypeIntegerForRate) {
  EXPECT_REFUSED(two_slices("", "rate = 50000000"), "rate", alice("rate"), "expected a string, got an integer");
}

TEST(Refuses, WrongTypeFloatForMask) {
  EXPECT_REFUSED(two_slices("mark_mask = 1.5"), "mark_mask", "netd\\.mark_mask", "expected an integer, got a float");
}

TEST(Refuses, NetdThatIsNotATable) {
  EXPECT_REFUSED("netd = 1\n", "netd", "netd", "expected a table, got an integer");
}

TEST(Refuses, SliceThatIsASingleTable) {
  EXPECT_REFUSED("[slice]\nname = \"a\"\n", "[slice]", "slice", "expected an array of tables \\(\\[\\[slice\\]\\]\\)");
}

TEST(Refuses, ControlCharactersInStrings) {
  EXPECT_REFUSED(two_slices("uplinks = [\"eth0\\u0000x\"]"), "eth0", "netd\\.uplinks", "control characters");
  EXPECT_REFUSED(two_slices("", "route_devices = [\"a\\nb\"]"), "route_devices", alice("route_devices"),
                 "control characters");
}

// --- [netd] ---

class RelativePath : public ::testing::TestWithParam<const char*> {};

TEST_P(RelativePath, IsRefused) {
  std::string key = GetParam();
  EXPECT_REFUSED(two_slices(key + " = \"run/netd\""), key + " =", "netd\\." + key, "must be an absolute path");
}

INSTANTIATE_TEST_SUITE_P(Netd, RelativePath, ::testing::Values("socket", "state_dir", "bpffs", "cgroup"));

TEST(Refuses, SocketPathTooLongForSockaddrUn) {
  EXPECT_REFUSED(two_slices("socket = \"/" + std::string(120, 'x') + "\""), "socket", "netd\\.socket",
                 "longer than a unix socket address");
}

TEST(Refuses, MarkMaskZero) {
  EXPECT_REFUSED(two_slices("mark_mask = 0"), "mark_mask", "netd\\.mark_mask", "must not be 0");
}

TEST(Refuses, MarkMaskNotContiguous) {
  EXPECT_REFUSED(two_slices("mark_mask = 0x0f0f0000"), "mark_mask", "netd\\.mark_mask", "contiguous");
}

TEST(Refuses, MarkMaskWiderThan32Bits) {
  EXPECT_REFUSED(two_slices("mark_mask = 0x100000000"), "mark_mask", "netd\\.mark_mask",
                 "outside 0\\.\\.4294967295");
}

TEST(Refuses, RawFlagNotOneBit) {
  EXPECT_REFUSED(two_slices("raw_flag = 0x30000000"), "raw_flag", "netd\\.raw_flag", "exactly one bit");
  EXPECT_REFUSED(two_slices("raw_flag = 0"), "raw_flag", "netd\\.raw_flag", "exactly one bit");
}

TEST(Refuses, RawFlagInsideMarkMask) {
  EXPECT_REFUSED(two_slices("raw_flag = 0x00100000"), "raw_flag", "netd\\.raw_flag", "inside mark_mask");
}

TEST(Refuses, TableBaseCollidingWithKernelTables) {
  EXPECT_REFUSED(two_slices("table_base = 250"), "table_base", "netd\\.table_base", "below 256.*local/main/default");
}

TEST(Refuses, TableBasePlusLargestIdOverflows) {
  EXPECT_REFUSED(two_slices("table_base = 4294967000"), "table_base", "netd\\.table_base",
                 "largest slice id 4095 exceeds the last routing table");
}

TEST(Refuses, RulePriorityOutOfRange) {
  EXPECT_REFUSED(two_slices("rule_priority = 0"), "rule_priority", "netd\\.rule_priority", "outside 1\\.\\.32762");
  EXPECT_REFUSED(two_slices("rule_priority = 32763"), "rule_priority", "netd\\.rule_priority",
                 "rule_priority\\.\\.rule_priority\\+3 at the least, before main and default");
}

class BadDeviceName : public ::testing::TestWithParam<const char*> {};

TEST_P(BadDeviceName, IsRefusedInUplinks) {
  std::string doc = two_slices(std::string("uplinks = [\"eth0\",\n  \"") + GetParam() + "\"]");
  EXPECT_REFUSED(doc, "  \"", "netd\\.uplinks", "(device name|IFNAMSIZ|control characters)");
}

TEST_P(BadDeviceName, IsRefusedInRouteDevices) {
  std::string doc = two_slices("", std::string("route_devices = [\"") + GetParam() + "\"]");
  EXPECT_REFUSED(doc, "route_devices", alice("route_devices"), "(device name|IFNAMSIZ|control characters)");
}

TEST_P(BadDeviceName, IsRefusedInPacketSendDevices) {
  std::string doc = two_slices("", std::string("raw = [\"packet\"]\npacket_send_devices = [\"") + GetParam() + "\"]");
  EXPECT_REFUSED(doc, "packet_send_devices", alice("packet_send_devices"),
                 "(device name|IFNAMSIZ|control characters)");
}

INSTANTIATE_TEST_SUITE_P(Kernel, BadDeviceName,
                         ::testing::Values("", ".", "..", "a/b", "a:b", "a b", "a\\tb", "sixteen-chars-xx"));

TEST(Refuses, VifNameInUplinks) {
  EXPECT_REFUSED(two_slices("uplinks = [\"tun7-0\"]"), "tun7-0", "netd\\.uplinks", "slice vif name");
}

TEST(Refuses, DuplicateUplink) {
  EXPECT_REFUSED(two_slices("uplinks = [\"eth0\", \"eth0\"]"), "uplinks = [\"eth0\", ", "netd\\.uplinks",
                 "'eth0' is listed twice");
}

TEST(Refuses, DuplicateAdmin) {
  EXPECT_REFUSED(two_slices("admins = [0, 0]"), "admins", "netd\\.admins", "uid 0 is listed twice");
}

TEST(Refuses, AdminThatIsNotAUid) {
  EXPECT_REFUSED(two_slices("admins = [-1]"), "admins", "netd\\.admins", "outside 0\\.\\.4294967294");
  EXPECT_REFUSED(two_slices("admins = [4294967295]"), "admins", "netd\\.admins", "outside");
}

TEST(Refuses, ConnectionAndRequestCapsOutOfRange) {
  EXPECT_REFUSED(two_slices("max_connections_per_uid = 0"), "max_conn", "netd\\.max_connections_per_uid",
                 "outside 1\\.\\.65536");
  EXPECT_REFUSED(two_slices("max_connections_per_uid = 65537"), "max_conn", "netd\\.max_connections_per_uid",
                 "outside");
  EXPECT_REFUSED(two_slices("requests_per_second_per_uid = 10000001"), "requests", "netd\\.requests_per_second_per_uid",
                 "outside 1\\.\\.10000000");
}

// --- Slice identity ---

class BadSliceName : public ::testing::TestWithParam<const char*> {};

TEST_P(BadSliceName, IsRefused) {
  std::string doc = netd_table() + slice_table(GetParam(), 7, 1001, "10.7.0.0/24");
  EXPECT_REFUSED(doc, "name =", "slice\\.name", "must match \\[a-z\\]");
}

INSTANTIATE_TEST_SUITE_P(Names, BadSliceName,
                         ::testing::Values("", "Alice", "1abc", "-a", "a b", "a.b", "a/b",
                                           "abcdefghijklmnopqrstuvwxyz012345"));  // 32 characters

TEST(Refuses, MissingName) {
  std::string doc = netd_table() + "[[slice]]\nid = 7\nuids = [1001]\n";
  EXPECT_REFUSED(doc, "[[slice]]", "slice\\.name", "missing required key");
}

TEST(Refuses, MissingId) {
  std::string doc = netd_table() + "[[slice]]\nname = \"alice\"\nuids = [1001]\n";
  EXPECT_REFUSED(doc, "[[slice]]", alice("id"), "missing required key");
}

TEST(Refuses, MissingMembers) {
  std::string doc = netd_table() + "[[slice]]\nname = \"alice\"\nid = 7\n";
  EXPECT_REFUSED(doc, "[[slice]]", alice("uids"), "at least one member: set uids or gids");
}

TEST(Refuses, EmptyMemberLists) {
  std::string doc = netd_table() + "[[slice]]\nname = \"alice\"\nid = 7\nuids = []\ngids = []\n";
  EXPECT_REFUSED(doc, "uids", alice("uids"), "at least one member");
}

TEST(Refuses, IdZero) {
  std::string doc = netd_table() + slice_table("alice", 0, 1001, "10.7.0.0/24");
  EXPECT_REFUSED(doc, "id =", alice("id"), "0 is outside 1\\.\\.4095");
}

TEST(Refuses, IdOutsideTheMask) {
  std::string doc = netd_table() + slice_table("alice", 4096, 1001, "10.7.0.0/24");
  EXPECT_REFUSED(doc, "id =", alice("id"), "4096 is outside 1\\.\\.4095");
  std::string narrow = netd_table("mark_mask = 0xff00\nraw_flag = 0x10000") + slice_table("alice", 256, 1001, "10.7.0.0/24");
  EXPECT_REFUSED(narrow, "id =", alice("id"), "256 is outside 1\\.\\.255.*0x0000ff00");
}

TEST(Refuses, DuplicateId) {
  std::string doc = netd_table() + slice_table("alice", 7, 1001, "10.7.0.0/24") +
                    slice_table("bob", 7, 1002, "10.8.0.0/24");
  EXPECT_REFUSED(doc, "id = 7\nuids = [1002]", bob("id"), "7 is already the id of slice alice \\(test\\.toml:[0-9]+\\)");
}

TEST(Refuses, DuplicateName) {
  std::string doc = netd_table() + slice_table("alice", 7, 1001, "10.7.0.0/24") + "[[slice]]\nid = 8\n" +
                    "name = \"alice\"\nuids = [1002]\n";
  EXPECT_REFUSED(doc, "name = \"alice\"\nuids = [1002]", alice("name"),
                 "already the name of the slice at test\\.toml:" + std::to_string(testing::line_of(doc, "[[slice]]")));
}

// --- Members ---

TEST(Refuses, UidInTwoSlices) {
  std::string doc = netd_table() + slice_table("alice", 7, 1001, "10.7.0.0/24") +
                    slice_table("bob", 8, 1001, "10.8.0.0/24");
  EXPECT_REFUSED(doc, "uids = [1001]\nnetblock = [\"10.8", bob("uids"), "uid 1001 is already a member of slice alice");
}

TEST(Refuses, UidTwiceInOneSlice) {
  std::string doc = netd_table() + slice_table("alice", 7, 1001, "10.7.0.0/24") +
                    "[[slice]]\nname = \"bob\"\nid = 8\nuids = [1002,\n 1002]\n";
  EXPECT_REFUSED(doc, " 1002]", bob("uids"), "uid 1002 is listed twice \\(first at test\\.toml:" +
                                                 std::to_string(testing::line_of(doc, "uids = [1002")) + "\\)");
}

TEST(Refuses, GidInTwoSlices) {
  std::string doc = netd_table() + slice_table("alice", 7, 1001, "10.7.0.0/24", "gids = [3000]") +
                    slice_table("bob", 8, 1002, "10.8.0.0/24", "gids = [3001,\n 3000]");
  EXPECT_REFUSED(doc, " 3000]", bob("gids"), "gid 3000 is already a member of slice alice \\(test\\.toml:" +
                                                 std::to_string(testing::line_of(doc, "gids = [3000]")) + "\\)");
}

TEST(Refuses, GidTwiceInOneSlice) {
  EXPECT_REFUSED(two_slices("", "gids = [3000, 3000]"), "gids", alice("gids"), "gid 3000 is listed twice");
}

TEST(Refuses, RootUidAsMember) {
  std::string doc = netd_table() + slice_table("alice", 7, 0, "10.7.0.0/24");
  EXPECT_REFUSED(doc, "uids", alice("uids"), "uid 0 \\(root\\) cannot be a slice member: root holds CAP_NET_ADMIN");
}

TEST(Refuses, RootGidAsMember) {
  EXPECT_REFUSED(two_slices("", "gids = [0]"), "gids", alice("gids"), "gid 0 \\(root\\).*CAP_NET_ADMIN");
}

TEST(Refuses, UidThatIsNotAUid) {
  EXPECT_REFUSED(two_slices("", "gids = [-5]"), "gids", alice("gids"), "outside 0\\.\\.4294967294");
}

// --- Addresses ---

TEST(Refuses, NetblockThatDoesNotParse) {
  std::string doc = netd_table() + slice_table("alice", 7, 1001, "10.7.0.0/33");
  EXPECT_REFUSED(doc, "netblock", alice("netblock"), "prefix length");
  doc = netd_table() + slice_table("alice", 7, 1001, "10.7.0.x/24");
  EXPECT_REFUSED(doc, "netblock", alice("netblock"), "not a prefix");
}

TEST(Refuses, NetblockWithHostBits) {
  std::string doc = netd_table() + slice_table("alice", 7, 1001, "10.7.0.1/24");
  EXPECT_REFUSED(doc, "netblock", alice("netblock"), "host bits set \\(did you mean 10\\.7\\.0\\.0/24\\?\\)");
}

TEST(Refuses, PrefixLengthThatIsNotDecimal) {
  std::string doc = netd_table() + slice_table("alice", 7, 1001, "10.7.0.0/0x18");
  EXPECT_REFUSED(doc, "netblock", alice("netblock"), "prefix length must be 0\\.\\.32");
}

TEST(Refuses, DefaultKeywordInPrefixLists) {
  std::string doc = netd_table() + slice_table("alice", 7, 1001, "default");
  EXPECT_REFUSED(doc, "netblock", alice("netblock"), "0\\.0\\.0\\.0/0 and/or ::/0");
}

TEST(Refuses, OverlappingNetblocksOfTwoSlices) {
  std::string doc = netd_table() + slice_table("alice", 7, 1001, "10.7.0.0/16") +
                    slice_table("bob", 8, 1002, "10.7.3.0/24");
  EXPECT_REFUSED(doc, "10.7.3.0/24", bob("netblock"),
                 "10\\.7\\.3\\.0/24 overlaps 10\\.7\\.0\\.0/16 of slice alice \\(test\\.toml:[0-9]+\\)");
}

TEST(Refuses, OverlappingNetblocksFoundAcrossOtherPrefixes) {
  // Sorted order puts 10.1.0.0/24 between the two overlapping ones: still caught.
  std::string doc = netd_table() + slice_table("alice", 7, 1001, "10.0.0.0/8") +
                    slice_table("bob", 8, 1002, "11.0.0.0/8") + slice_table("carol", 9, 1003, "10.200.0.0/16");
  EXPECT_REFUSED(doc, "10.200.0.0/16", "slice\\[carol\\]\\.netblock", "overlaps 10\\.0\\.0\\.0/8 of slice alice");
}

TEST(Refuses, OverlappingNetblocksWithinASlice) {
  std::string doc = netd_table() +
                    "[[slice]]\nname = \"alice\"\nid = 7\nuids = [1001]\n"
                    "netblock = [\"fd00:7::/64\",\n \"fd00:7::/48\"]\n";
  EXPECT_REFUSED(doc, " \"fd00:7::/48\"", alice("netblock"), "overlaps fd00:7::/64 of the same slice");
}

TEST(Refuses, RoutePrefixThatDoesNotParse) {
  EXPECT_REFUSED(two_slices("", "route_prefixes = [\"0.0.0.0/0\", \"::/0\", \"nope\"]"), "route_prefixes",
                 alice("route_prefixes"), "'nope' is not a prefix");
}

TEST(Refuses, DuplicateRoutePrefix) {
  EXPECT_REFUSED(two_slices("", "route_prefixes = [\"::/0\", \"::/0\"]"), "route_prefixes", alice("route_prefixes"),
                 "::/0 is listed twice");
}

// --- Devices ---

TEST(Refuses, VifNameInRouteDevices) {
  EXPECT_REFUSED(two_slices("", "route_devices = [\"tap8-1\"]"), "tap8-1", alice("route_devices"),
                 "'tap8-1' is a slice vif name.*always allowed for their owner");
}

TEST(Refuses, VifNameInPacketSendDevices) {
  EXPECT_REFUSED(two_slices("", "packet_send_devices = [\"tun7-0\"]"), "tun7-0", alice("packet_send_devices"),
                 "slice vif name");
}

TEST(Refuses, VifNamesOfEveryShapeInPacketSendDevices) {
  for (const char* name : {"tap8-1", "tun7-12", "tap0-0", "tun07-0"})
    EXPECT_REFUSED(two_slices("", std::string("packet_send_devices = [\"eth0\", \"") + name + "\"]"), "packet_send",
                   alice("packet_send_devices"), "'" + std::string(name) + "' is a slice vif name");
}

TEST(Refuses, DuplicateRouteDevice) {
  EXPECT_REFUSED(two_slices("", "route_devices = [\"eth1\", \"eth1\"]"), "route_devices", alice("route_devices"),
                 "'eth1' is listed twice");
}

TEST(Refuses, DuplicatePacketSendDevice) {
  EXPECT_REFUSED(two_slices("", "packet_send_devices = [\"eth0\", \"eth0\"]"), "packet_send",
                 alice("packet_send_devices"), "listed twice");
}

// --- Quotas ---

TEST(Refuses, MaxRoutesAndMaxVifsOutOfRange) {
  EXPECT_REFUSED(two_slices("", "max_routes = 100001"), "max_routes", alice("max_routes"), "outside 0\\.\\.100000");
  EXPECT_REFUSED(two_slices("", "max_vifs = 1025"), "max_vifs", alice("max_vifs"), "outside 0\\.\\.1024");
  EXPECT_REFUSED(two_slices("", "max_vifs = -1"), "max_vifs", alice("max_vifs"), "outside");
}

TEST(Refuses, VifNamesThatWouldNotFitIfnamsiz) {
  std::string doc = netd_table("mark_mask = 0x7fffffff\nraw_flag = 0x80000000\ntable_base = 256") +
                    slice_table("alice", 2000000000, 1001, "10.7.0.0/24", "max_vifs = 100");
  EXPECT_REFUSED(doc, "max_vifs", alice("max_vifs"), "tun2000000000-<n> would not fit");
}

// --- Raw sockets ---

TEST(Refuses, UnknownRawKind) {
  EXPECT_REFUSED(two_slices("", "raw = [\"icmp\", \"sctp\"]"), "raw =", alice("raw"), "'sctp' is not a raw socket kind");
}

TEST(Refuses, DuplicateRawKind) {
  EXPECT_REFUSED(two_slices("", "raw = [\"udp\", \"udp\"]"), "raw =", alice("raw"), "'udp' is listed twice");
}

TEST(Refuses, RawKindsAreExactWords) {
  for (const char* kind : {"ICMP", "icmp6", "raw", "ip", "", "udp ", "255"})
    EXPECT_REFUSED(two_slices("", std::string("raw = [\"") + kind + "\"]"), "raw =", alice("raw"),
                   "is not a raw socket kind \\(icmp, icmpv6, udp, tcp, packet\\)");
}

TEST(Refuses, RawThatIsNotAListOfStrings) {
  EXPECT_REFUSED(two_slices("", "raw = \"icmp\""), "raw =", alice("raw"), "expected an array, got a string");
  EXPECT_REFUSED(two_slices("", "raw = [1]"), "raw =", alice("raw"), "expected a string, got an integer");
}

TEST(Refuses, FlowlogGroupOutOfRange) {
  EXPECT_REFUSED(two_slices("flowlog_group = 65536"), "flowlog_group", "netd\\.flowlog_group",
                 "outside 0\\.\\.65535 \\(NFLOG groups are 16-bit\\)");
  EXPECT_REFUSED(two_slices("flowlog_group = -1"), "flowlog_group", "netd\\.flowlog_group", "outside 0\\.\\.65535");
  EXPECT_REFUSED(two_slices("flowlog_group = \"0x4e00\""), "flowlog_group", "netd\\.flowlog_group",
                 "expected an integer");
}

TEST(Refuses, MonitorWhoseFlowLogGroupWouldPass16Bits) {
  // 65530 + 7 > 65535: alice as a monitor needs group 65537.
  EXPECT_REFUSED(two_slices("flowlog_group = 65530", "capture_all = true"), "capture_all", alice("capture_all"),
                 "flowlog_group \\+ id = 65530 \\+ 7 = 65537, above the last NFLOG group 65535");
  // Bob (id 8) is no monitor: no group needed, so the same setting is fine without alice's capture_all.
  EXPECT_OK(parse_policy(two_slices("flowlog_group = 65530"), "test.toml"));
  EXPECT_OK(parse_policy(two_slices("flowlog_group = 65528", "capture_all = true"), "test.toml"));
}

// --- Shaping ---

TEST(Refuses, RateThatDoesNotParse) {
  EXPECT_REFUSED(two_slices("", "rate = \"fast\""), "rate", alice("rate"), "not a rate");
  EXPECT_REFUSED(two_slices("", "rate = \"50furlongs\""), "rate", alice("rate"), "unknown unit");
  EXPECT_REFUSED(two_slices("", "rate = \"1mbit\"\nceil = \"2MiB\""), "ceil", alice("ceil"), "unknown unit");
}

TEST(Refuses, RateUnitOutsideTcsSpelling) {
  // "Mbps" is usually meant as megabits but is tc's megabytes: refused rather than guessed.
  EXPECT_REFUSED(two_slices("", "rate = \"100Mbps\""), "rate", alice("rate"), "unknown unit 'Mbps'");
}

TEST(Refuses, RateAboveCeil) {
  std::string doc = two_slices("", "rate = \"100mbit\"\nceil = \"50mbit\"");
  EXPECT_REFUSED(doc, "rate", alice("rate"), "100mbit is above ceil 50mbit \\(test\\.toml:" +
                                                 std::to_string(testing::line_of(doc, "ceil")) + "\\)");
}

TEST(Refuses, CeilWithoutRate) {
  EXPECT_REFUSED(two_slices("", "ceil = \"50mbit\""), "ceil", alice("ceil"), "ceil without rate");
}

TEST(Refuses, ZeroRate) {
  EXPECT_REFUSED(two_slices("", "rate = \"0mbit\""), "rate", alice("rate"), "must be above 0");
}

// --- Socket ops ---

TEST(Refuses, BindPortSyntax) {
  for (const char* bad : {"http", "80-", "-80", "80-90-100", "0x50", " 80", "8 0"})
    EXPECT_REFUSED(two_slices("", "bind_ports = [\"" + std::string(bad) + "\"]"), "bind_ports", alice("bind_ports"),
                   "not a port or port range");
}

TEST(Refuses, BindPortOutOfRange) {
  EXPECT_REFUSED(two_slices("", "bind_ports = [\"0\"]"), "bind_ports", alice("bind_ports"), "ports are 1\\.\\.65535");
  EXPECT_REFUSED(two_slices("", "bind_ports = [\"65000-65536\"]"), "bind_ports", alice("bind_ports"),
                 "ports are 1\\.\\.65535");
}

TEST(Refuses, ReversedBindPortRange) {
  EXPECT_REFUSED(two_slices("", "bind_ports = [\"90-80\"]"), "bind_ports", alice("bind_ports"), "reversed");
}

TEST(Refuses, BindPortReservedForTwoSlices) {
  std::string doc = two_slices("", "bind_ports = [\"80\", \"440-450\"]", "bind_ports = [\"443\"]");
  EXPECT_REFUSED(doc, "bind_ports = [\"443\"]", bob("bind_ports"),
                 "port 443 \\(in 443\\) is already reserved for slice alice \\(test\\.toml:[0-9]+\\)");
}

TEST(Refuses, BindPortListedTwiceInOneSlice) {
  std::string doc = two_slices("", "bind_ports = [\"80-90\",\n  \"85\"]");
  EXPECT_REFUSED(doc, "  \"85\"", alice("bind_ports"), "port 85 \\(in 85\\) is already listed at test\\.toml:" +
                                                           std::to_string(testing::line_of(doc, "bind_ports")));
}

TEST(Refuses, MaxSockbufTooLargeOrUnparsable) {
  EXPECT_REFUSED(two_slices("", "max_sockbuf = \"3GiB\""), "max_sockbuf", alice("max_sockbuf"), "3GiB is above 2GiB");
  EXPECT_REFUSED(two_slices("", "max_sockbuf = \"lots\""), "max_sockbuf", alice("max_sockbuf"), "not a size");
  EXPECT_OK(parse_policy(two_slices("", "max_sockbuf = \"2GiB\""), "test.toml"));
}

TEST(Refuses, MaxPriorityAboveSix) {
  EXPECT_REFUSED(two_slices("", "max_priority = 7"), "max_priority", alice("max_priority"),
                 "outside 0\\.\\.6 \\(7 is TC_PRIO_CONTROL");
}

}  // namespace
}  // namespace netd::policy
