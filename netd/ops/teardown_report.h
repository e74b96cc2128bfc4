// What a teardown (or a clean-up inside a reconcile) could not remove, and why. Every step runs
// and is recorded, so one refusal neither hides the others nor stops the rest of the clean-up:
// `netd --teardown` prints every entry and exits 1 unless the report is clean.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "lib/core/errors.h"
#include "lib/core/result.h"

namespace netd::ops {

struct TeardownReport {
  struct Leftover {
    std::string object;  // what stays in the kernel: "device tun7-0", "rule fwmark 0x70000/0xff0000 lookup 10007"
    std::string why;     // the failure that kept it there
    int code = 0;        // its errno
  };
  std::vector<Leftover> left_behind;

  bool clean() const { return left_behind.empty(); }

  // Records `object` as left behind when `step` (the attempt to remove it) failed.
  void note(std::string object, const Status& step) {
    if (!step.ok()) left_behind.push_back({std::move(object), step.error().message, step.error().code});
  }
  void merge(TeardownReport other) {
    for (auto& l : other.left_behind) left_behind.push_back(std::move(l));
  }

  // "<object>: <why>", one per leftover.
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    for (const auto& l : left_behind) out.push_back(l.object + ": " + l.why);
    return out;
  }

  // For callers that answer with one Status (a reconcile): ok when clean, else a kernel error
  // with the first leftover's errno naming every leftover, after `context`.
  Status as_status(const std::string& context) const {
    if (clean()) return ok_status();
    std::string text = context + ": left behind: ";
    const std::vector<std::string> each = lines();
    for (size_t i = 0; i < each.size(); ++i) text += (i ? "; " : "") + each[i];
    return kernel_error(make_error(left_behind.front().code, std::move(text)));
  }
};

}  // namespace netd::ops
