#include "netd/daemon/log.h"

#include <unistd.h>

#include <string>

namespace netd::daemon {

void log_line(std::string_view text) {
  std::string line = "netd: ";
  line.append(text);
  line += '\n';
  write_line(stderr, line);
}

void write_line(FILE* sink, std::string_view line) {
  (void)!write(fileno(sink), line.data(), line.size());  // nowhere to report a failed log write
}

}  // namespace netd::daemon
