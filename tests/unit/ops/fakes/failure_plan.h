// FailurePlan<Op>: the failures a fake kernel injects, and how often each operation was called.
// fail_next(op, errno) makes the next call of `op` fail with that errno, or the one after
// `after` more successful calls (several queue up, one per call); calls(op) counts every call,
// failed or not, so a test can tell "asked the kernel" from "answered from memory".
#pragma once

#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <string>

#include "lib/core/result.h"

namespace netd::testing {

template <typename Op>
class FailurePlan {
 public:
  void fail_next(Op op, int code, int after = 0) {
    for (int i = 0; i < after; ++i) pending_[op].push_back(0);  // 0: this call succeeds
    pending_[op].push_back(code);
  }
  int calls(Op op) const {
    auto it = calls_.find(op);
    return it == calls_.end() ? 0 : it->second;
  }

  // Counts a call of `op`; the error it must fail with, if one is queued: "<what>: <strerror>
  // (injected)", as the kernel's executors word theirs.
  std::optional<Error> take(Op op, const std::string& what) {
    ++calls_[op];
    auto it = pending_.find(op);
    if (it == pending_.end() || it->second.empty()) return std::nullopt;
    const int code = it->second.front();
    it->second.pop_front();
    if (code == 0) return std::nullopt;
    return make_error(code, what + ": " + std::strerror(code) + " (injected)");
  }

 private:
  std::map<Op, std::deque<int>> pending_;
  std::map<Op, int> calls_;
};

}  // namespace netd::testing
