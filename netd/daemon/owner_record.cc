#include "netd/daemon/owner_record.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "lib/core/errors.h"
#include "lib/core/unique_fd.h"

namespace netd::daemon {

namespace {

// A record is a few bytes per slice; anything far larger is not one.
constexpr size_t kMaxRecordBytes = 1 << 20;

Status write_all(int fd, const std::string& text, const std::string& path) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_error("writing " + path);
    done += static_cast<size_t>(n);
  }
  return ok_status();
}

}  // namespace

std::string owner_record_path(const std::string& state_dir) { return state_dir + "/slice-ids"; }

Result<std::optional<policy::SliceOwners>> read_owner_record(const std::string& state_dir) {
  const std::string path = owner_record_path(state_dir);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid() && errno == ENOENT) return std::optional<policy::SliceOwners>();
  if (!fd.valid()) return errno_error("opening " + path);
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_error("reading " + path);
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxRecordBytes) return make_error(EFBIG, path + " is larger than a record can be");
  }
  auto owners = policy::parse_slice_owners(text);
  if (!owners.ok()) return std::move(owners).error().with_context(path);
  return std::optional<policy::SliceOwners>(std::move(owners).value());
}

Status write_owner_record(const std::string& state_dir, const policy::SliceOwners& owners) {
  if (::mkdir(state_dir.c_str(), 0700) != 0 && errno != EEXIST) return errno_error("creating " + state_dir);
  const std::string path = owner_record_path(state_dir);
  const std::string tmp = path + ".new";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return errno_error("creating " + tmp);
  Status written = write_all(fd.get(), policy::format_slice_owners(owners), tmp);
  if (written.ok() && ::fsync(fd.get()) != 0) written = errno_error("syncing " + tmp);
  if (written.ok() && ::rename(tmp.c_str(), path.c_str()) != 0)
    written = errno_error("renaming " + tmp + " to " + path);
  if (written.ok()) return written;
  // The record stays as it was, with no half-written file beside it.
  Status removed = ::unlink(tmp.c_str()) == 0 ? ok_status() : Status(errno_error("deleting " + tmp));
  return with_undo(std::move(written).error(), removed, tmp);
}

}  // namespace netd::daemon
