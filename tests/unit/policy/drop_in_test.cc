// load_policy: the main file plus policy.d/*.toml, in name order, validated as one policy.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "netd/policy/loader.h"
#include "tests/unit/policy/policy_test_util.h"

namespace netd::policy {
namespace {

using testing::netd_table;
using testing::slice_table;

using DropIns = testing::PolicyDirTest;

TEST_F(DropIns, MainFileAloneLoads) {
  write("policy.toml", netd_table() + slice_table("alice", 7, 1001, "10.7.0.0/24"));
  auto policy = load_policy(main_);
  ASSERT_OK(policy);
  ASSERT_EQ(policy->slices.size(), 1u);
  EXPECT_EQ(policy->slices[0].source, main_ + ":4");
}

TEST_F(DropIns, AreReadInNameOrderAfterTheMainFile) {
  write("policy.toml", netd_table() + slice_table("alice", 7, 1001, "10.7.0.0/24"));
  write("policy.d/20-carol.toml", slice_table("carol", 9, 1003, "10.9.0.0/24"));
  write("policy.d/10-bob.toml", slice_table("bob", 8, 1002, "10.8.0.0/24"));
  write("policy.d/30-dave.toml", "# one drop-in may hold several slices\n" +
                                     slice_table("dave", 10, 1004, "10.10.0.0/24") +
                                     slice_table("erin", 11, 1005, "10.11.0.0/24"));
  // Not drop-ins: hidden files (editor leftovers) and other extensions are skipped, even if invalid.
  write("policy.d/.15-junk.toml", "this is not toml");
  write("policy.d/README", "this is not toml either");
  write("policy.d/40-frank.toml.bak", "[netd]\n");
  auto policy = load_policy(main_);
  ASSERT_OK(policy);
  std::vector<std::string> names;
  for (const auto& s : policy->slices) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"alice", "bob", "carol", "dave", "erin"}));
  EXPECT_EQ(policy->find_by_name("bob")->source, path("policy.d/10-bob.toml") + ":1");
  EXPECT_EQ(policy->find_by_name("erin")->source, path("policy.d/30-dave.toml") + ":8");
}

TEST_F(DropIns, DuplicateIdAcrossMainAndDropInNamesTheDropIn) {
  write("policy.toml", netd_table() + slice_table("alice", 7, 1001, "10.7.0.0/24"));
  write("policy.d/50-bob.toml", "\n" + slice_table("bob", 7, 1002, "10.8.0.0/24"));
  EXPECT_ERR(load_policy(main_), EINVAL,
             path("policy.d/50-bob.toml") + ":4: slice\\[bob\\]\\.id: 7 is already the id of slice alice \\(" +
                 main_ + ":6\\)");
}

TEST_F(DropIns, DuplicateUidBetweenTwoDropInsNamesTheLaterOne) {
  write("policy.toml", netd_table());
  write("policy.d/a.toml", slice_table("alice", 7, 1001, "10.7.0.0/24"));
  write("policy.d/b.toml", slice_table("bob", 8, 1001, "10.8.0.0/24"));
  EXPECT_ERR(load_policy(main_), EINVAL, path("policy.d/b.toml") + ":4: slice\\[bob\\]\\.uids: uid 1001 is already");
}

TEST_F(DropIns, OverlappingNetblockInADropInNamesTheDropIn) {
  write("policy.d/b.toml", slice_table("bob", 8, 1002, "10.0.0.0/8"));
  write("policy.toml", slice_table("alice", 7, 1001, "10.7.0.0/24"));
  EXPECT_ERR(load_policy(main_), EINVAL, path("policy.d/b.toml") + ":5: slice\\[bob\\]\\.netblock: 10.0.0.0/8 overlaps");
}

TEST_F(DropIns, NetdTableInADropInIsRefused) {
  write("policy.toml", netd_table());
  write("policy.d/10-x.toml", slice_table("bob", 8, 1002, "10.8.0.0/24") + "[netd]\nsocket = \"/tmp/s\"\n");
  EXPECT_ERR(load_policy(main_), EINVAL,
             path("policy.d/10-x.toml") + ":7: netd: a drop-in may only contain \\[\\[slice\\]\\]");
}

TEST_F(DropIns, SyntaxErrorInADropInNamesIt) {
  write("policy.toml", netd_table());
  write("policy.d/10-x.toml", "[[slice]]\nname = \n");
  EXPECT_ERR(load_policy(main_), EINVAL, path("policy.d/10-x.toml") + ":2:[0-9]+: TOML syntax error");
}

TEST_F(DropIns, UnknownKeyInADropInNamesIt) {
  write("policy.toml", netd_table());
  write("policy.d/10-x.toml", slice_table("bob", 8, 1002, "10.8.0.0/24", "colour = 3"));
  EXPECT_ERR(load_policy(main_), EINVAL, path("policy.d/10-x.toml") + ":6: slice\\[bob\\]\\.colour: unknown key");
}

TEST_F(DropIns, MissingMainFileIsEnoentNamingThePath) {
  write("policy.d/10-x.toml", slice_table("bob", 8, 1002, "10.8.0.0/24"));
  EXPECT_ERR(load_policy(main_), ENOENT, main_ + ": No such file or directory");
}

TEST_F(DropIns, MainFileThatIsADirectoryIsRefused) {
  std::filesystem::create_directories(main_);
  EXPECT_ERR(load_policy(main_), EINVAL, "not a regular file");
}

TEST_F(DropIns, DropInThatIsADirectoryIsRefused) {
  write("policy.toml", netd_table());
  std::filesystem::create_directories(path("policy.d/10-x.toml"));
  EXPECT_ERR(load_policy(main_), EINVAL, path("policy.d/10-x.toml") + ": not a regular file");
}

TEST_F(DropIns, RelativePathUsesTheCurrentDirectory) {
  write("policy.toml", netd_table());
  write("policy.d/10-bob.toml", slice_table("bob", 8, 1002, "10.8.0.0/24"));
  char old_cwd[4096];
  ASSERT_NE(getcwd(old_cwd, sizeof old_cwd), nullptr);
  ASSERT_EQ(chdir(dir_.c_str()), 0);
  auto policy = load_policy("policy.toml");
  ASSERT_EQ(chdir(old_cwd), 0);
  ASSERT_OK(policy);
  EXPECT_EQ(policy->slices.at(0).source, "./policy.d/10-bob.toml:1");
}

}  // namespace
}  // namespace netd::policy
