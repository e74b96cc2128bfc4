#include "netd/kernel/bpf/libbpf_log.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>

namespace netd::kernel {
namespace {

thread_local LibbpfLogCapture* current_capture = nullptr;

// libbpf's callback is process-wide: messages from threads without a capture are dropped,
// they belong to no error we return.
int capture_print(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG || current_capture == nullptr) return 0;
  char buf[1024];
  int n = std::vsnprintf(buf, sizeof buf, format, args);
  if (n > 0) current_capture->append(buf);
  return 0;
}

}  // namespace

LibbpfLogCapture::LibbpfLogCapture()
    : outer_(current_capture), previous_print_(reinterpret_cast<void*>(libbpf_set_print(capture_print))) {
  current_capture = this;
}

LibbpfLogCapture::~LibbpfLogCapture() {
  current_capture = outer_;
  libbpf_set_print(reinterpret_cast<libbpf_print_fn_t>(previous_print_));
}

void LibbpfLogCapture::append(const char* text) {
  constexpr size_t kMax = 64 * 1024;
  text_ += text;
  if (text_.size() > kMax) text_.erase(0, text_.size() - kMax);  // keep the end: it says why
}

std::string LibbpfLogCapture::tail(size_t max_chars) const {
  if (text_.size() <= max_chars) return text_;
  return "..." + text_.substr(text_.size() - max_chars);
}

}  // namespace netd::kernel
