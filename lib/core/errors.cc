#include "lib/core/errors.h"

namespace netd {
namespace {

struct ErrnoRow {
  int code;
  ErrorKind request;  // a request check's errno
  ErrorKind kernel;   // a kernel call's errno
};

using K = ErrorKind;

// The columns disagree on purpose: a kernel EPERM/EACCES is netd's own failure (KernelError), an
// EINVAL from the kernel means netd built a bad request, and kernel quota/space errnos are
// reported as the kernel's; only "it exists / is busy" and "it is gone" keep their meaning.
constexpr ErrnoRow kRows[] = {
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
};

}  // namespace

std::string echoed(std::string_view word) {
  constexpr size_t kMaxEchoed = 32;
  if (word.empty()) return "''";
  std::string out(word.substr(0, kMaxEchoed));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  return word.size() > kMaxEchoed ? out + "..." : out;
}

ErrorKind kind_for_errno(int code, ErrnoOrigin origin) {
  for (const ErrnoRow& row : kRows)
    if (row.code == code) return origin == ErrnoOrigin::kKernel ? row.kernel : row.request;
  return ErrorKind::kKernel;
}

}  // namespace netd
