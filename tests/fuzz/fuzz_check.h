// What a fuzz target asserts beyond "no crash": a property that must hold for every input.
// A violation aborts, which libFuzzer (and the replay driver) reports as a finding with the
// input that caused it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace netd::fuzz {

[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz property violated: %s\n", what.c_str());
  std::abort();
}

inline void check(bool holds, const std::string& what) {
  if (!holds) fail(what);
}

}  // namespace netd::fuzz
