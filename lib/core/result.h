// Result<T>: a value or an Error carrying errno and a human message.
// Used at every module boundary instead of exceptions: no exception crosses lib/ or netd/.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace netd {

// Which of the io.netd.* Varlink errors an Error becomes on the wire. kUnspecified derives it
// from the errno; the daemon sets it where errno alone would mislead (a kernel EPERM is a
// KernelError, not a policy refusal).
enum class ErrorKind {
  kUnspecified,
  kNotMember,
  kInvalidArgument,
  kPermissionDenied,
  kResourceExhausted,
  kNotFound,
  kConflict,
  kKernel,
};

struct Error {
  int code = 0;          // errno value (EINVAL, EPERM, ...); 0 never appears in a real error
  std::string message;   // what was refused or failed, and why
  ErrorKind kind = ErrorKind::kUnspecified;

  // Prefix context to the message: "adding route: <message>".
  Error&& with_context(const std::string& context) && {
    message = context + ": " + message;
    return std::move(*this);
  }
};

inline Error make_error(int code, std::string message, ErrorKind kind = ErrorKind::kUnspecified) {
  return Error{code, std::move(message), kind};
}

// errno-based error with strerror appended: "open /x: No such file or directory".
inline Error errno_error(const std::string& what, int code = errno) {
  return Error{code, what + ": " + std::strerror(code), ErrorKind::kUnspecified};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status ok_status() { return {}; }

}  // namespace netd

// Propagate an error from an expression returning Result<...>.
#define NETD_TRY(expr)                                  \
  do {                                                  \
    auto netd_try_result_ = (expr);                     \
    if (!netd_try_result_.ok())                         \
      return std::move(netd_try_result_).error();       \
  } while (0)

#define NETD_CONCAT_INNER(a, b) a##b
#define NETD_CONCAT(a, b) NETD_CONCAT_INNER(a, b)

// Declare `lhs` from the value of a Result<T> or return its error.
#define NETD_ASSIGN_OR_RETURN(lhs, expr)                               \
  auto NETD_CONCAT(netd_tmp_, __LINE__) = (expr);                      \
  if (!NETD_CONCAT(netd_tmp_, __LINE__).ok())                          \
    return std::move(NETD_CONCAT(netd_tmp_, __LINE__)).error();        \
  lhs = std::move(NETD_CONCAT(netd_tmp_, __LINE__)).value()
