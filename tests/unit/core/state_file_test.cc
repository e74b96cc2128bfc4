// state_dir files: replaced whole, read with a cap, symlinks refused, nothing left beside them.
#include "lib/core/state_file.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "tests/fixtures/temp_dir_test.h"
#include "tests/fixtures/test_macros.h"

namespace netd {
namespace {

class StateFiles : public netd::testing::TempDirTest {};

TEST_F(StateFiles, MissingIsNothing) {
  auto got = read_state_file(dir_ + "/none", 100);
  ASSERT_OK(got);
  EXPECT_FALSE(got->has_value());
}

TEST_F(StateFiles, ReplacedWholeWithItsMode) {
  const std::string path = dir_ + "/record";
  ASSERT_OK(replace_state_file(path, "first\n"));
  ASSERT_OK(replace_state_file(path, "second\n", 0640));
  auto got = read_state_file(path, 100);
  ASSERT_OK(got);
  EXPECT_EQ(**got, "second\n");
  EXPECT_FALSE(std::filesystem::exists(path + ".new"));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  // The new file's mode (less the umask): a rename puts the new inode in place.
  EXPECT_EQ(st.st_mode & 0600, 0600u);
  EXPECT_EQ(st.st_mode & 0137, 0u);
}

TEST_F(StateFiles, AFailedWriteLeavesTheOldFileAndNothingBeside) {
  const std::string path = dir_ + "/sub/record";
  EXPECT_ERR(replace_state_file(path, "x"), ENOENT, "creating " + path + "\\.new");
  EXPECT_FALSE(std::filesystem::exists(path + ".new"));
}

TEST_F(StateFiles, CapAndSymlink) {
  const std::string path = dir_ + "/record";
  ASSERT_OK(replace_state_file(path, std::string(101, 'x')));
  EXPECT_ERR(read_state_file(path, 100), EFBIG, "larger than 100 bytes");
  std::filesystem::create_symlink(path, dir_ + "/link");
  EXPECT_ERR(read_state_file(dir_ + "/link", 1000), ELOOP, "opening " + dir_ + "/link");
}

TEST_F(StateFiles, PrivateDir) {
  ASSERT_OK(make_private_dir(dir_ + "/state"));
  ASSERT_OK(make_private_dir(dir_ + "/state"));  // already there: fine
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/state").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_ERR(make_private_dir(dir_ + "/no/parent"), ENOENT, "creating");
}

TEST_F(StateFiles, AppendedAndRemoved) {
  const std::string path = dir_ + "/journal";
  ASSERT_OK(append_state_file(path, "one\n"));
  ASSERT_OK(append_state_file(path, "two\n"));
  auto got = read_state_file(path, 100);
  ASSERT_OK(got);
  EXPECT_EQ(**got, "one\ntwo\n");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u);
  ASSERT_OK(remove_state_file(path));
  EXPECT_FALSE(std::filesystem::exists(path));
  ASSERT_OK(remove_state_file(path));  // gone already: fine
}

TEST_F(StateFiles, AnAppendRefusesASymlinkAndAMissingDirectory) {
  ASSERT_OK(replace_state_file(dir_ + "/record", "kept\n"));
  std::filesystem::create_symlink(dir_ + "/record", dir_ + "/link");
  EXPECT_ERR(append_state_file(dir_ + "/link", "x\n"), ELOOP, "opening " + dir_ + "/link to append to it");
  auto got = read_state_file(dir_ + "/record", 100);
  ASSERT_OK(got);
  EXPECT_EQ(**got, "kept\n");
  EXPECT_ERR(append_state_file(dir_ + "/sub/journal", "x\n"), ENOENT, "opening " + dir_ + "/sub/journal");
}

}  // namespace
}  // namespace netd
