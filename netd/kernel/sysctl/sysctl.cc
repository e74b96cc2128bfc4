#include "netd/kernel/sysctl/sysctl.h"

#include <fcntl.h>
#include <unistd.h>

#include "lib/core/unique_fd.h"

namespace netd::kernel {

Status write_sysctl(const std::string& key, const std::string& value) {
  const std::string path = "/proc/sys/" + key;
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return errno_error("opening " + path);
  if (::write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size()))
    return errno_error("writing " + value + " to " + path);
  return ok_status();
}

}  // namespace netd::kernel
