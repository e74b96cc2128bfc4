#include "lib/core/errors.h"

#include <cstring>

#include "tests/fixtures/test_macros.h"

namespace netd {
namespace {

using K = ErrorKind;

struct ErrnoCase {
  int code;
  ErrorKind request;
  ErrorKind kernel;
};

// Every errno the server's fallback and kernel_error() listed before they became one table, with
// the kind each gave: the two columns disagree on purpose (a kernel EPERM is netd's failure).
constexpr ErrnoCase kGolden[] = {
    {EINVAL, K::kInvalidArgument, K::kKernel},
    {ERANGE, K::kInvalidArgument, K::kKernel},
    {EAFNOSUPPORT, K::kInvalidArgument, K::kKernel},
    {EPERM, K::kPermissionDenied, K::kKernel},
    {EACCES, K::kPermissionDenied, K::kKernel},
    {EDQUOT, K::kResourceExhausted, K::kKernel},
    {ENOSPC, K::kResourceExhausted, K::kKernel},
    {EMFILE, K::kResourceExhausted, K::kKernel},
    {EUSERS, K::kResourceExhausted, K::kKernel},
    {EAGAIN, K::kResourceExhausted, K::kKernel},
    {ENOENT, K::kNotFound, K::kNotFound},
    {ENODEV, K::kNotFound, K::kNotFound},
    {ESRCH, K::kNotFound, K::kNotFound},
    {ENXIO, K::kNotFound, K::kKernel},
    {EEXIST, K::kConflict, K::kConflict},
    {EBUSY, K::kConflict, K::kConflict},
    // Not in the table: KernelError from either side.
    {EIO, K::kKernel, K::kKernel},
    {EMEDIUMTYPE, K::kKernel, K::kKernel},
    {EADDRNOTAVAIL, K::kKernel, K::kKernel},
    {0, K::kKernel, K::kKernel},
};

TEST(ErrnoKinds, OneTableTwoColumns) {
  for (const ErrnoCase& c : kGolden) {
    EXPECT_EQ(kind_for_errno(c.code, ErrnoOrigin::kRequest), c.request) << std::strerror(c.code);
    EXPECT_EQ(kind_for_errno(c.code, ErrnoOrigin::kKernel), c.kernel) << std::strerror(c.code);
  }
}

TEST(ErrnoKinds, KernelErrorKeepsErrnoAndTextAndReplacesTheKind) {
  Error e = kernel_error(make_error(EPERM, "setting up tun0", K::kPermissionDenied));
  EXPECT_EQ(e.kind, K::kKernel);
  EXPECT_EQ(e.code, EPERM);
  EXPECT_EQ(e.message, "setting up tun0");
  EXPECT_EQ(kernel_error(make_error(EBUSY, "x")).kind, K::kConflict);
  EXPECT_EQ(kernel_error(make_error(ENODEV, "x")).kind, K::kNotFound);
}

// A rollback that worked adds nothing; one that failed is named, after the primary failure
// whose kind and errno the caller still gets.
TEST(ErrorHelpers, WithUndo) {
  Error primary = kernel_error(make_error(EEXIST, "adding fwmark rule"));
  Error undone = with_undo(primary, ok_status(), "route 198.51.100.0/24");
  EXPECT_EQ(undone.message, "adding fwmark rule");
  EXPECT_EQ(undone.code, EEXIST);
  EXPECT_EQ(undone.kind, K::kConflict);

  Error left = with_undo(primary, make_error(EPERM, "deleting route: Operation not permitted"),
                         "route 198.51.100.0/24 in table 10007");
  EXPECT_EQ(left.message,
            "adding fwmark rule; undoing it failed, left behind: route 198.51.100.0/24 in table 10007: "
            "deleting route: Operation not permitted");
  EXPECT_EQ(left.code, EEXIST);
  EXPECT_EQ(left.kind, K::kConflict);
}

TEST(ErrorHelpers, KindsAndCodes) {
  struct Case {
    Error error;
    int code;
    ErrorKind kind;
  };
  const Case cases[] = {
      {invalid("bad"), EINVAL, K::kInvalidArgument},
      {invalid("bad", EAFNOSUPPORT), EAFNOSUPPORT, K::kInvalidArgument},
      {refused("bad"), EPERM, K::kPermissionDenied},
      {refused("bad", EACCES), EACCES, K::kPermissionDenied},
      {not_found("bad"), ENOENT, K::kNotFound},
      {not_found("bad", ESRCH), ESRCH, K::kNotFound},
      {exhausted("bad", EDQUOT), EDQUOT, K::kResourceExhausted},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.error.code, c.code) << std::strerror(c.code);
    EXPECT_EQ(c.error.kind, c.kind) << std::strerror(c.code);
    EXPECT_EQ(c.error.message, "bad");
  }
  Error gone = device_not_found("tun7-0");
  EXPECT_EQ(gone.code, ENODEV);
  EXPECT_EQ(gone.kind, K::kNotFound);
  EXPECT_EQ(gone.message, "tun7-0 does not exist");
}

// A request's word in an error: bounded and printable whatever was sent.
TEST(ErrorHelpers, EchoedWords) {
  EXPECT_EQ(echoed(""), "''");
  EXPECT_EQ(echoed("tap7-0"), "tap7-0");
  EXPECT_EQ(echoed(std::string(32, 'x')), std::string(32, 'x'));
  EXPECT_EQ(echoed(std::string(33, 'x')), std::string(32, 'x') + "...");
  EXPECT_EQ(echoed(std::string("a\0b\n\x7f\xc3\xa9", 7)), "a?b????");
}

}  // namespace
}  // namespace netd
