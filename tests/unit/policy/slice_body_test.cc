// parse_policy_with_slices: the main file's text plus slice bodies (as etcd holds them), validated as
// a file and its drop-ins are, every refusal naming the body's source and line.
#include <filesystem>

#include "netd/policy/loader.h"
#include "tests/unit/policy/policy_test_util.h"

namespace netd::policy {
namespace {

using testing::netd_table;
using testing::slice_table;

SliceBody body(const std::string& name, const std::string& text) {
  return {"etcd:/netd/slices/" + name, name, text};
}

std::string bob_body(const std::string& extra = "") {
  return "id = 8\nuids = [1002]\nnetblock = [\"10.8.0.0/24\"]\n" + extra;
}

Result<Policy> parse(const std::string& main, std::vector<SliceBody> bodies) {
  return parse_policy_with_slices(main, "/etc/netd/policy.toml", bodies);
}

const std::string kMain = netd_table() + slice_table("alice", 7, 1001, "10.7.0.0/24");

TEST(SliceBodies, FollowTheMainFilesSlicesNamedByTheirKeys) {
  auto policy = parse(kMain, {body("bob", bob_body("rate = \"10mbit\"\n")),
                              body("carol", "name = \"carol\"\nid = 9\nuids = [1003]\n")});
  ASSERT_OK(policy);
  ASSERT_EQ(policy->slices.size(), 3u);
  EXPECT_EQ(policy->slices[0].name, "alice");
  EXPECT_EQ(policy->slices[0].source, "/etc/netd/policy.toml:4");
  EXPECT_EQ(policy->slices[1].name, "bob");
  EXPECT_EQ(policy->slices[1].source, "etcd:/netd/slices/bob:1");
  EXPECT_EQ(policy->slices[1].ceil_bps, 10'000'000u);  // defaults settled as for a file
  EXPECT_EQ(policy->slices[2].name, "carol");
  EXPECT_EQ(policy->slices[2].uids, (std::vector<uid_t>{1003}));
}

TEST(SliceBodies, AWholeOneSliceDropInIsTakenAsItIs) {
  auto policy = parse(kMain, {body("bob", "# bob\n[[slice]]\n" + bob_body())});
  ASSERT_OK(policy);
  EXPECT_EQ(policy->slices.at(1).source, "etcd:/netd/slices/bob:2");
}

TEST(SliceBodies, ANameOtherThanTheKeysIsRefused) {
  EXPECT_ERR(parse(kMain, {body("bob", bob_body("name = \"mallory\"\n"))}), EINVAL,
             "^etcd:/netd/slices/bob:4: slice\\.name: 'mallory' is not the name its key gives it \\('bob'\\)");
}

TEST(SliceBodies, NetdIsRefusedNamingTheKey) {
  EXPECT_ERR(parse(kMain, {body("bob", bob_body("[netd]\nsocket = \"/tmp/evil.sock\"\n"))}), EINVAL,
             "^etcd:/netd/slices/bob:4: netd: \\[netd\\] never comes from etcd");
  // Also as a dotted key, which is a table too.
  EXPECT_ERR(parse(kMain, {body("bob", bob_body("netd.bpffs = \"/tmp\"\n"))}), EINVAL,
             "^etcd:/netd/slices/bob:4: netd: \\[netd\\] never comes from etcd");
}

TEST(SliceBodies, AnyOtherTableIsRefused) {
  EXPECT_ERR(parse(kMain, {body("bob", bob_body("[extra]\nx = 1\n"))}), EINVAL,
             "^etcd:/netd/slices/bob:4: extra: a slice key holds the keys of one \\[\\[slice\\]\\] table");
  EXPECT_ERR(parse(kMain, {body("bob", "[[slice]]\n" + bob_body() + "[[slice]]\nid = 9\n")}), EINVAL,
             "^etcd:/netd/slices/bob:1: slice: a slice key holds the keys of one");
}

TEST(SliceBodies, SyntaxErrorNamesTheKeyLineAndColumn) {
  EXPECT_ERR(parse(kMain, {body("bob", "id = 8\nuids = [\n")}), EINVAL,
             "^etcd:/netd/slices/bob:[23]:[0-9]+: TOML syntax error");
}

TEST(SliceBodies, AnEmptyBodyIsASliceWithoutId) {
  EXPECT_ERR(parse(kMain, {body("bob", "")}), EINVAL,
             "^etcd:/netd/slices/bob:1: slice\\[bob\\]\\.id: missing required key");
}

TEST(SliceBodies, KeysAreCheckedAsInAFile) {
  EXPECT_ERR(parse(kMain, {body("bob", bob_body("max_route = 3\n"))}), EINVAL,
             "^etcd:/netd/slices/bob:4: slice\\[bob\\]\\.max_route: unknown key");
  EXPECT_ERR(parse(kMain, {body("bob", "id = 8\nuids = [0]\n")}), EINVAL,
             "^etcd:/netd/slices/bob:2: slice\\[bob\\]\\.uids: uid 0 \\(root\\) cannot be a slice member");
}

TEST(SliceBodies, MainFileRefusalsComeFirst) {
  EXPECT_ERR(parse(netd_table("colour = 1"), {body("bob", bob_body())}), EINVAL,
             "^/etc/netd/policy\\.toml:3: netd\\.colour: unknown key");
}

// The same collision as a drop-in and as an etcd key: the same reason, the later slice named.
class SameAsDropIns : public testing::PolicyDirTest {};

TEST_F(SameAsDropIns, ACollisionReadsTheSame) {
  const std::string clash = "id = 8\nuids = [1001]\nnetblock = [\"10.8.0.0/24\"]\n";
  write("policy.toml", kMain);
  write("policy.d/bob.toml", "[[slice]]\nname = \"bob\"\n" + clash);
  auto from_files = load_policy(main_);
  auto from_etcd = parse_policy_with_slices(kMain, main_, std::vector<SliceBody>{body("bob", clash)});
  ASSERT_FALSE(from_files.ok());
  ASSERT_FALSE(from_etcd.ok());
  EXPECT_EQ(from_files.error().message,
            path("policy.d/bob.toml") + ":4: slice[bob].uids: uid 1001 is already a member of slice alice (" + main_ +
                ":7): a uid belongs to at most one slice");
  EXPECT_EQ(from_etcd.error().message,
            "etcd:/netd/slices/bob:2: slice[bob].uids: uid 1001 is already a member of slice alice (" + main_ +
                ":7): a uid belongs to at most one slice");
}

TEST(SliceBodies, ReadPolicyFileIsTheLoadersReader) {
  EXPECT_ERR(read_policy_file("/nonexistent/policy.toml"), ENOENT, "reading policy /nonexistent/policy.toml");
}

}  // namespace
}  // namespace netd::policy
