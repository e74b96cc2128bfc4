#include "netd/fleet/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "lib/core/unique_fd.h"

namespace netd::fleet {

namespace {

constexpr size_t kMaxPasswordFileBytes = 4096;

}  // namespace

Result<std::string> read_password_file(const std::string& path) {
  const std::string what = "etcd_password_file " + path;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) return errno_error("reading " + what);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return errno_error("reading " + what);
  if (!S_ISREG(st.st_mode)) return make_error(EINVAL, what + ": not a regular file");
  // Checked on the open file, so a swap of the path after the check changes nothing.
  if (st.st_uid != ::geteuid())
    return make_error(EPERM, what + ": belongs to uid " + std::to_string(st.st_uid) + ", not to netd's (" +
                                 std::to_string(::geteuid()) + "): chown it");
  if ((st.st_mode & 077) != 0)
    return make_error(EPERM, what + ": group or others may access it (mode " + [&] {
                        char buf[8];
                        std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(st.st_mode & 07777));
                        return std::string(buf);
                      }() + "): chmod 0600 it");
  if (static_cast<uint64_t>(st.st_size) > kMaxPasswordFileBytes)
    return make_error(EINVAL, what + ": larger than a password (" + std::to_string(kMaxPasswordFileBytes) + " bytes)");
  std::string text(kMaxPasswordFileBytes + 1, '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_error("reading " + what);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got > kMaxPasswordFileBytes)
    return make_error(EINVAL, what + ": larger than a password (" + std::to_string(kMaxPasswordFileBytes) + " bytes)");
  text.resize(got);
  // The first line: `echo secret > file` ends it with a newline that is not part of it.
  text = text.substr(0, text.find('\n'));
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.empty()) return make_error(EINVAL, what + ": its first line is empty");
  return text;
}

}  // namespace netd::fleet
