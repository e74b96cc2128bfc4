// The last good fleet policy under state_dir: written whole, read back equal, a damaged file an
// error naming it (never "no policy"), and the same policy rebuilt from it.
#include "netd/fleet/last_good.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "tests/fixtures/temp_dir_test.h"
#include "tests/fixtures/test_macros.h"

namespace netd::fleet {
namespace {

class LastGoodStore : public netd::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    state_ = dir_ + "/state";
  }
  void write_raw(const std::string& text) {
    std::filesystem::create_directories(state_);
    std::ofstream(last_good_path(state_)) << text;
  }
  static LastGood sample() {
    LastGood good;
    good.revision = 42;
    good.applied_at = 1'796'000'000;
    good.prefix = "/netd/";
    good.node = "h1";
    good.keys = {{"/netd/slices/alice", "id = 7\nuids = [1001]\n# \"quoted\" \\ and ünïcode\n"},
                 {"/netd/hosts/h1/slices/bob", ""}};
    return good;
  }
  std::string state_;
};

TEST_F(LastGoodStore, NoneBeforeTheFirstWrite) {
  auto got = read_last_good(state_);
  ASSERT_OK(got);
  EXPECT_FALSE(got->has_value());
}

TEST_F(LastGoodStore, WrittenAndReadBackEqualInAPrivateFile) {
  ASSERT_OK(write_last_good(state_, sample()));
  auto got = read_last_good(state_);
  ASSERT_OK(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, sample());
  struct stat st {};
  ASSERT_EQ(::stat(state_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat(last_good_path(state_).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(last_good_path(state_) + ".new"));
}

TEST_F(LastGoodStore, ANewRevisionReplacesTheOld) {
  ASSERT_OK(write_last_good(state_, sample()));
  LastGood next = sample();
  next.revision = 43;
  next.keys.erase("/netd/hosts/h1/slices/bob");
  ASSERT_OK(write_last_good(state_, next));
  auto got = read_last_good(state_);
  ASSERT_OK(got);
  EXPECT_EQ(**got, next);
}

TEST_F(LastGoodStore, TheFileIsReadableJson) {
  const std::string text = format_last_good(sample());
  EXPECT_THAT(text, ::testing::HasSubstr("\"format\": \"netd fleet policy 1\""));
  EXPECT_THAT(text, ::testing::HasSubstr("\"applied_at\": \"2026-11-30T"));
  EXPECT_THAT(text, ::testing::HasSubstr("\"revision\": 42"));
}

TEST_F(LastGoodStore, ADamagedFileIsAnErrorNamingIt) {
  const std::string good = format_last_good(sample());
  struct Case {
    std::string text;
    std::string reason;
  } cases[] = {
      {"", "not JSON"},
      {good.substr(0, good.size() / 2), "not JSON"},
      {"[]", "not a JSON object"},
      {"{\"format\": \"netd fleet policy 2\"}", "format 'netd fleet policy 2'"},
      {"{\"format\": \"netd fleet policy 1\"}", "no \"revision\""},
      {"{\"format\": \"netd fleet policy 1\", \"revision\": \"42\"}", "\"revision\" is not an integer"},
      {"{\"format\": \"netd fleet policy 1\", \"revision\": 0}", "no etcd revision"},
      {"{\"format\": \"netd fleet policy 1\", \"revision\": 4, \"applied_at\": \"yesterday\"}", "\"applied_at\""},
      {"{\"format\": \"netd fleet policy 1\", \"revision\": 4, \"applied_at\": \"2026-11-29T00:00:00Z\", "
       "\"prefix\": \"/netd/\", \"node\": \"h1\", \"keys\": {\"/netd/slices/a\": 7}}",
       "the value of \"/netd/slices/a\" is not a string"},
      {"{\"format\": \"netd fleet policy 1\", \"revision\": 4, \"applied_at\": \"2026-11-29T00:00:00Z\", "
       "\"prefix\": \"/netd/\", \"node\": \"h1\", \"keys\": {\"/x/slices/a\": \"\"}}",
       "is not under the prefix"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    write_raw(c.text);
    EXPECT_ERR(read_last_good(state_), EINVAL,
               "^" + last_good_path(state_) + ": not a last good fleet policy: .*" + c.reason);
  }
}

TEST_F(LastGoodStore, ASymlinkIsNotFollowed) {
  std::filesystem::create_directories(state_);
  std::ofstream(dir_ + "/elsewhere") << format_last_good(sample());
  std::filesystem::create_symlink(dir_ + "/elsewhere", last_good_path(state_));
  EXPECT_ERR(read_last_good(state_), ELOOP, "opening " + last_good_path(state_));
}

TEST_F(LastGoodStore, RebuildsTheSamePolicy) {
  const std::string main = "[netd]\npolicy_source = \"etcd\"\netcd_endpoints = [\"http://e:2379\"]\n";
  LastGood good = sample();
  good.keys = {{"/netd/slices/alice", "id = 7\nuids = [1001]\n"}, {"/netd/slices/bob", "id = 8\nuids = [1002]\n"}};
  auto applied = fleet_policy(main, "p", good.keys, good.prefix, good.node);
  ASSERT_OK(applied);
  ASSERT_OK(write_last_good(state_, good));
  auto read = read_last_good(state_);
  ASSERT_OK(read);
  auto rebuilt = fleet_policy(main, "p", (*read)->keys, (*read)->prefix, (*read)->node);
  ASSERT_OK(rebuilt);
  ASSERT_EQ(rebuilt->slices.size(), applied->slices.size());
  for (size_t i = 0; i < applied->slices.size(); ++i) EXPECT_EQ(rebuilt->slices[i], applied->slices[i]);
}

}  // namespace
}  // namespace netd::fleet
