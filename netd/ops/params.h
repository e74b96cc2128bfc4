// The refusal of a request value the IDL's types let through but the operation cannot parse.
#pragma once

#include "lib/core/result.h"

namespace netd::ops {

inline Error invalid(const std::string& reason) { return make_error(EINVAL, reason, ErrorKind::kInvalidArgument); }

}  // namespace netd::ops
