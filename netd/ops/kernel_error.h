// A kernel refusal keeps its errno and text but is reported as the kernel's, not the
// policy's: io.netd.Conflict / NotFound where the errno says so, else KernelError.
#pragma once

#include "lib/core/result.h"

namespace netd::ops {

inline Error kernel_error(Error e) {
  e.kind = (e.code == EEXIST || e.code == EBUSY) ? ErrorKind::kConflict
           : (e.code == ESRCH || e.code == ENOENT || e.code == ENODEV) ? ErrorKind::kNotFound
                                                                        : ErrorKind::kKernel;
  return e;
}

}  // namespace netd::ops
