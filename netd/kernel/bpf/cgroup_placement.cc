#include "netd/kernel/bpf/cgroup_placement.h"

#include <fstream>
#include <sstream>
#include <vector>

namespace netd::kernel {

namespace {

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(sep, start);
    if (end == std::string_view::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_mountinfo(std::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      std::string_view oct = field.substr(i + 1, 3);
      if (oct.find_first_not_of("01234567") == std::string_view::npos) {
        out.push_back(static_cast<char>((oct[0] - '0') * 64 + (oct[1] - '0') * 8 + (oct[2] - '0')));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

// Whether the absolute directory path `path` is `dir` or below it (both normalized).
bool path_within(const std::string& dir, const std::string& path) {
  if (dir == "/") return true;
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

// "dir" + "/rest" without a doubled "/".
std::string join(const std::string& dir, std::string_view rest) {
  return normalize_cgroup_path(dir + "/" + std::string(rest));
}

Result<std::string> read_text(const char* path) {
  std::ifstream in(path);
  if (!in) return errno_error(std::string("reading ") + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::string normalize_cgroup_path(std::string_view path) {
  std::vector<std::string_view> parts;
  for (std::string_view part : split(path, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  if (parts.empty()) return "/";
  std::string out;
  for (std::string_view part : parts) {
    out += '/';
    out += part;
  }
  return out;
}

bool cgroup_contains(std::string_view ancestor, std::string_view path) {
  return path_within(normalize_cgroup_path(ancestor), normalize_cgroup_path(path));
}

Result<std::string> parse_v2_cgroup(std::string_view proc_cgroup) {
  for (std::string_view line : split(proc_cgroup, '\n')) {
    // v2: hierarchy id 0, no controllers: "0::/path".
    if (line.substr(0, 3) == "0::") return normalize_cgroup_path(line.substr(3));
  }
  return make_error(ENOENT, "no cgroup v2 line (0::) in /proc/self/cgroup: netd is in no cgroup v2 hierarchy");
}

Result<std::string> cgroup_of_fs_path(std::string_view mountinfo, std::string_view fs_path) {
  const std::string target = normalize_cgroup_path(fs_path);
  std::string best_mount;
  std::string best_root;
  bool found = false;
  for (std::string_view line : split(mountinfo, '\n')) {
    // id parent major:minor root mount-point options [optional...] - fstype source super-options
    std::vector<std::string_view> fields = split(line, ' ');
    size_t dash = 0;
    while (dash < fields.size() && fields[dash] != "-") ++dash;
    if (dash < 5 || dash + 1 >= fields.size() || fields[dash + 1] != "cgroup2") continue;
    std::string mount = normalize_cgroup_path(unescape_mountinfo(fields[4]));
    if (!path_within(mount, target)) continue;
    // The longest mount point wins; on a tie the later mount (it hides the earlier one).
    if (!found || mount.size() >= best_mount.size()) {
      best_mount = mount;
      best_root = normalize_cgroup_path(unescape_mountinfo(fields[3]));
      found = true;
    }
  }
  if (!found)
    return make_error(ENOENT, "no cgroup v2 file system is mounted at or above " + std::string(fs_path));
  std::string_view rest = std::string_view(target).substr(best_mount == "/" ? 0 : best_mount.size());
  return join(best_root, rest);
}

Result<CgroupPlacement> cgroup_placement(std::string_view proc_cgroup, std::string_view mountinfo,
                                         const std::string& configured_dir) {
  CgroupPlacement p;
  p.configured_dir = configured_dir;
  NETD_ASSIGN_OR_RETURN(p.own, parse_v2_cgroup(proc_cgroup));
  NETD_ASSIGN_OR_RETURN(p.configured, cgroup_of_fs_path(mountinfo, configured_dir));
  p.inside = cgroup_contains(p.configured, p.own);
  return p;
}

std::string outside_cgroup_warning(const CgroupPlacement& p) {
  return "warning: netd runs in cgroup " + p.own + ", outside the policy's cgroup " + p.configured_dir + " (" +
         p.configured + "): raw sockets netd hands out skip the cgroup programs at " + p.configured_dir +
         ": their flows are not learned (answers do not reach the slice) and their egress is not fenced; run netd "
         "inside " + p.configured_dir + ", e.g. as the shipped netd.service with cgroup = the v2 root, or move it (" +
         p.configured_dir + "/cgroup.procs) and reload";
}

Result<CgroupPlacement> own_cgroup_placement(const std::string& configured_dir) {
  NETD_ASSIGN_OR_RETURN(std::string proc_cgroup, read_text("/proc/self/cgroup"));
  NETD_ASSIGN_OR_RETURN(std::string mountinfo, read_text("/proc/self/mountinfo"));
  auto placement = cgroup_placement(proc_cgroup, mountinfo, configured_dir);
  if (!placement.ok())
    return std::move(placement).error().with_context("telling whether netd runs inside the policy's cgroup " +
                                                     configured_dir);
  return placement;
}

}  // namespace netd::kernel
