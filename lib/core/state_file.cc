#include "lib/core/state_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "lib/core/errors.h"
#include "lib/core/unique_fd.h"

namespace netd {

namespace {

Status write_all(int fd, std::string_view text, const std::string& path) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_error("writing " + path);
    done += static_cast<size_t>(n);
  }
  return ok_status();
}

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Status make_private_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return errno_error("creating " + dir);
  return ok_status();
}

Result<std::optional<std::string>> read_state_file(const std::string& path, size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid() && errno == ENOENT) return std::optional<std::string>();
  if (!fd.valid()) return errno_error("opening " + path);
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_error("reading " + path);
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > max_bytes)
      return make_error(EFBIG, path + " is larger than " + std::to_string(max_bytes) + " bytes: not a file netd wrote");
  }
  return std::optional<std::string>(std::move(text));
}

Status replace_state_file(const std::string& path, std::string_view text, mode_t mode) {
  const std::string tmp = path + ".new";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd.valid()) return errno_error("creating " + tmp);
  Status written = write_all(fd.get(), text, tmp);
  if (written.ok() && ::fsync(fd.get()) != 0) written = errno_error("syncing " + tmp);
  if (written.ok() && ::rename(tmp.c_str(), path.c_str()) != 0)
    written = errno_error("renaming " + tmp + " to " + path);
  if (!written.ok()) {
    // The file stays as it was, with no half-written one beside it.
    Status removed = ::unlink(tmp.c_str()) == 0 ? ok_status() : Status(errno_error("deleting " + tmp));
    return with_undo(std::move(written).error(), removed, tmp);
  }
  // The new name is in the directory only once the directory is synced.
  const std::string dir = parent_of(path);
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) return errno_error("opening " + dir + " to sync it");
  if (::fsync(dir_fd.get()) != 0) return errno_error("syncing " + dir);
  return ok_status();
}

Status append_state_file(const std::string& path, std::string_view text, mode_t mode) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd.valid()) return errno_error("opening " + path + " to append to it");
  struct stat before {};
  if (::fstat(fd.get(), &before) != 0) return errno_error("reading the size of " + path);
  Status written = write_all(fd.get(), text, path);
  if (written.ok() && ::fsync(fd.get()) != 0) written = errno_error("syncing " + path);
  if (!written.ok()) {
    Status cut = ::ftruncate(fd.get(), before.st_size) == 0 ? ok_status()
                                                             : Status(errno_error("cutting " + path + " back"));
    return with_undo(std::move(written).error(), cut, "what was appended to " + path);
  }
  return ok_status();
}

Status remove_state_file(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return errno_error("deleting " + path);
  return ok_status();
}

}  // namespace netd
