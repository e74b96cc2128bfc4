#include "netd/daemon/log.h"

#include <unistd.h>

#include <string>

namespace netd::daemon {

void log_line(std::string_view text) {
  std::string line = "netd: ";
  line.append(text);
  line += '\n';
  (void)!write(STDERR_FILENO, line.data(), line.size());  // nowhere to report a failed log write
}

}  // namespace netd::daemon
