#include "tests/fuzz/stream_script.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

namespace netd::fuzz {

std::vector<Send> decode_stream(const uint8_t* data, size_t size) {
  std::vector<Send> sends(1);
  size_t total = 0;
  size_t fds = 0;
  for (size_t i = 0; i < size && total < kMaxStreamBytes; ++i) {
    uint8_t byte = data[i];
    if (byte == 0x01) {
      size_t k = 0;
      while (i < size && data[i] == 0x01) {
        ++k;
        ++i;
      }
      --i;
      k = std::min({k, kMaxFdsPerSend, kMaxFdsPerInput - fds});
      fds += k;
      sends.push_back(Send{"", k});
    } else if (byte == 0x02) {
      sends.push_back(Send{});
    } else if (byte == 0x03) {
      size_t n = i + 1 < size ? data[++i] : 0;
      size_t spaces = n * 1024 < kMaxStreamBytes - total ? n * 1024 : kMaxStreamBytes - total;
      sends.back().bytes.append(spaces, ' ');
      total += spaces;
    } else {
      sends.back().bytes.push_back(static_cast<char>(byte));
      ++total;
    }
  }
  return sends;
}

int make_passable_fd(size_t index) {
  if (index % 2 == 0) return eventfd(0, EFD_CLOEXEC);
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) < 0) return -1;
  close(ends[1]);
  return ends[0];
}

}  // namespace netd::fuzz
