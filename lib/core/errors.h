// The error helpers every module uses, and the one table from errno to ErrorKind (the io.netd.*
// Varlink error an Error becomes on the wire).
#pragma once

#include <cerrno>
#include <string>
#include <string_view>

#include "lib/core/result.h"

namespace netd {

// Who produced the errno decides its kind. The same number means different things: EPERM from a
// request check is a policy refusal (PermissionDenied); EPERM from the kernel is netd's own failure
// (KernelError), never the caller's fault.
enum class ErrnoOrigin {
  kRequest,  // an Error built without a kind (the server's fallback)
  kKernel,   // a kernel call's errno (kernel_error)
};

// The kind `code` stands for when `origin` produced it; KernelError for any errno not in the table.
ErrorKind kind_for_errno(int code, ErrnoOrigin origin);

// A kernel refusal keeps its errno and text but is reported as the kernel's, not the policy's:
// Conflict / NotFound where the errno says so, else KernelError. Replaces any kind already set.
inline Error kernel_error(Error e) {
  e.kind = kind_for_errno(e.code, ErrnoOrigin::kKernel);
  return e;
}

// The request is malformed or out of range (io.netd.InvalidArgument).
inline Error invalid(std::string reason, int code = EINVAL) {
  return make_error(code, std::move(reason), ErrorKind::kInvalidArgument);
}

// The policy does not allow it (io.netd.PermissionDenied).
inline Error refused(std::string reason, int code = EPERM) {
  return make_error(code, std::move(reason), ErrorKind::kPermissionDenied);
}

// What the request names does not exist (io.netd.NotFound).
inline Error not_found(std::string reason, int code = ENOENT) {
  return make_error(code, std::move(reason), ErrorKind::kNotFound);
}

// A device the request names does not exist: "<name> does not exist", ENODEV.
inline Error device_not_found(const std::string& name) { return not_found(name + " does not exist", ENODEV); }

// A word from a request, echoed in an error: control and non-ASCII bytes as '?', at most 32
// characters (then "..."), "''" when empty, so it can neither bloat nor forge the audit line.
std::string echoed(std::string_view word);

// A limit of the slice or of netd is reached (io.netd.ResourceExhausted).
inline Error exhausted(std::string reason, int code) {
  return make_error(code, std::move(reason), ErrorKind::kResourceExhausted);
}

// A failure whose rollback may itself have failed. When `undo` failed, the message names what
// stayed in the kernel and why: "<primary>; undoing it failed, left behind: <left_behind>:
// <undo's reason>". Kind and errno stay the primary's: that is why the request failed.
inline Error with_undo(Error primary, const Status& undo, std::string_view left_behind) {
  if (!undo.ok()) {
    primary.message += "; undoing it failed, left behind: ";
    primary.message.append(left_behind);
    primary.message += ": " + undo.error().message;
  }
  return primary;
}

}  // namespace netd
