#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

#include "lib/core/errors.h"
#include "netd/server/server.h"

namespace netd::server {
namespace {

// The Varlink error an Error becomes on the wire: its kind when set, else the request column of
// the errno table. The names and the errno fallback are what clients (and the CLIs' exit codes)
// depend on, so they are pinned here.
TEST(VarlinkErrorName, FromTheKind) {
  EXPECT_EQ(varlink_error_name(make_error(EPERM, "x", ErrorKind::kNotMember)), "io.netd.NotMember");
  EXPECT_EQ(varlink_error_name(invalid("x", EPERM)), "io.netd.InvalidArgument");
  EXPECT_EQ(varlink_error_name(refused("x", EINVAL)), "io.netd.PermissionDenied");
  EXPECT_EQ(varlink_error_name(exhausted("x", EINVAL)), "io.netd.ResourceExhausted");
  EXPECT_EQ(varlink_error_name(not_found("x", EEXIST)), "io.netd.NotFound");
  EXPECT_EQ(varlink_error_name(make_error(EINVAL, "x", ErrorKind::kConflict)), "io.netd.Conflict");
  EXPECT_EQ(varlink_error_name(kernel_error(make_error(EPERM, "x"))), "io.netd.KernelError");
}

TEST(VarlinkErrorName, FromTheErrnoWhenNoKind) {
  struct Case {
    int code;
    const char* name;
  };
  const Case cases[] = {
      {EINVAL, "io.netd.InvalidArgument"},
      {ERANGE, "io.netd.InvalidArgument"},
      {EAFNOSUPPORT, "io.netd.InvalidArgument"},
      {EPERM, "io.netd.PermissionDenied"},
      {EACCES, "io.netd.PermissionDenied"},
      {EDQUOT, "io.netd.ResourceExhausted"},
      {ENOSPC, "io.netd.ResourceExhausted"},
      {EMFILE, "io.netd.ResourceExhausted"},
      {EUSERS, "io.netd.ResourceExhausted"},
      {EAGAIN, "io.netd.ResourceExhausted"},
      {ENOENT, "io.netd.NotFound"},
      {ENODEV, "io.netd.NotFound"},
      {ESRCH, "io.netd.NotFound"},
      {ENXIO, "io.netd.NotFound"},
      {EEXIST, "io.netd.Conflict"},
      {EBUSY, "io.netd.Conflict"},
      {EIO, "io.netd.KernelError"},
      {ENOMEM, "io.netd.KernelError"},
  };
  for (const Case& c : cases)
    EXPECT_EQ(varlink_error_name(make_error(c.code, "x")), c.name) << std::strerror(c.code);
}

}  // namespace
}  // namespace netd::server
