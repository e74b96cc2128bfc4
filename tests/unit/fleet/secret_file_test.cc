// etcd_password_file: the first line of a file only netd's user may read.
#include "netd/fleet/secret_file.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "tests/fixtures/temp_dir_test.h"
#include "tests/fixtures/test_macros.h"

namespace netd::fleet {
namespace {

class PasswordFile : public netd::testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    path_ = dir_ + "/password";
  }
  void write(const std::string& text, mode_t mode) {
    std::ofstream(path_) << text;
    ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
  }
  std::string path_;
};

TEST_F(PasswordFile, FirstLineOfAPrivateFile) {
  write("s3cret\nignored\n", 0600);
  auto got = read_password_file(path_);
  ASSERT_OK(got);
  EXPECT_EQ(*got, "s3cret");
  write("crlf\r\n", 0400);
  got = read_password_file(path_);
  ASSERT_OK(got);
  EXPECT_EQ(*got, "crlf");
}

TEST_F(PasswordFile, ReadableByOthersIsRefused) {
  write("s3cret\n", 0640);
  EXPECT_ERR(read_password_file(path_), EPERM, "group or others may access it \\(mode 0640\\): chmod 0600 it");
}

TEST_F(PasswordFile, EmptyTooLargeMissingOrNotAFile) {
  write("\nsecond\n", 0600);
  EXPECT_ERR(read_password_file(path_), EINVAL, "its first line is empty");
  write(std::string(5000, 'x'), 0600);
  EXPECT_ERR(read_password_file(path_), EINVAL, "larger than a password");
  EXPECT_ERR(read_password_file(dir_ + "/none"), ENOENT, "reading etcd_password_file " + dir_ + "/none");
  EXPECT_ERR(read_password_file(dir_), EINVAL, "not a regular file");
}

}  // namespace
}  // namespace netd::fleet
