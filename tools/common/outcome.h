// Outcome<T>: what a step of a CLI's main produced, or the exit status to end with once the
// failure has been printed. Result<T> carries an Error still to be reported; an Outcome's
// failure has been reported already, so the caller only returns its exit code.
#pragma once

#include <utility>
#include <variant>

namespace netd::cli {

// The status a failed step ends the program with (explicit, so an Outcome<int> stays unambiguous).
struct ExitCode {
  int value;
};

template <typename T>
class [[nodiscard]] Outcome {
 public:
  Outcome(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Outcome(ExitCode code) : v_(code) {}        // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }

  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  T& operator*() & { return value(); }

  int exit_code() const { return std::get<1>(v_).value; }

 private:
  std::variant<T, ExitCode> v_;
};

}  // namespace netd::cli
