// LibbpfLogCapture: while in scope, libbpf's messages (including the verifier log of a failed
// load) go into a buffer instead of stderr, so they can be put into the returned Error:
// library code never logs; the caller decides what to print.
#pragma once

#include <string>

namespace netd::kernel {

class LibbpfLogCapture {
 public:
  LibbpfLogCapture();
  LibbpfLogCapture(const LibbpfLogCapture&) = delete;
  LibbpfLogCapture& operator=(const LibbpfLogCapture&) = delete;
  ~LibbpfLogCapture();

  // The last `max_chars` characters captured so far (the end of a verifier log says why).
  std::string tail(size_t max_chars = 2000) const;
  // Called by the print callback; bounded, since a verifier log can be megabytes.
  void append(const char* text);

 private:
  std::string text_;
  LibbpfLogCapture* outer_;  // captures nest per thread
  void* previous_print_;     // libbpf's print callback before this capture
};

}  // namespace netd::kernel
