#include "bench/leftovers.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "lib/core/unique_fd.h"
#include "tests/fixtures/files.h"
#include "tests/fixtures/test_bpffs.h"
#include "tests/fixtures/test_cgroup.h"

namespace bench {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kNetnsDir = "/run/netns";
constexpr const char* kTestbedDirPrefix = "/tmp/netd-test-";  // Testbed::create's mkdtemp
// route_bench's sudo baseline (route_bench.cc); only a route_bench run makes it.
constexpr const char* kSudoersDropIns[] = {"/etc/sudoers.d/netd-bench", "/etc/sudoers.d/netd-bench.tmp"};

std::string record_file(pid_t pid) { return std::string(kRunRecordDir) + "/" + std::to_string(pid); }

// Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot; "" when
// there is no such process. With the pid it names one process for good (pids get reused).
std::string start_time(pid_t pid) {
  auto stat = netd::testing::read_text_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat.ok()) return "";
  size_t paren = stat->rfind(')');  // the command name may hold spaces and parentheses
  if (paren == std::string::npos) return "";
  std::istringstream fields(stat->substr(paren + 1));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) return field;
  }
  return "";
}

struct Record {
  pid_t pid = -1;
  std::string start, who;
  std::vector<std::string> paths;
};

std::optional<Record> read_record(pid_t pid) {
  std::ifstream in(record_file(pid));
  if (!in) return std::nullopt;
  Record r;
  r.pid = pid;
  in >> r.start >> r.who;
  std::string word, path;
  while (in >> word && std::getline(in >> std::ws, path))
    if (word == "path") r.paths.push_back(path);
  return r;
}

std::vector<Record> all_records() {
  std::vector<Record> out;
  DIR* d = opendir(kRunRecordDir);
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (e->d_name[0] == '.' || *end != '\0' || pid <= 0) continue;
    if (auto r = read_record(static_cast<pid_t>(pid))) out.push_back(std::move(*r));
  }
  closedir(d);
  return out;
}

bool alive(const Record& r) { return !r.start.empty() && start_time(r.pid) == r.start; }

std::vector<std::string> entries_with_prefix(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d))
    if (std::string_view(e->d_name).starts_with(prefix)) out.push_back(dir + "/" + e->d_name);
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

// The pids (not ours) whose network namespace is one of `inodes`.
std::vector<pid_t> processes_in(const std::set<ino_t>& inodes) {
  std::vector<pid_t> out;
  if (inodes.empty()) return out;
  DIR* d = opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0 || pid == getpid()) continue;
    struct stat st {};
    // The link's target is the namespace itself: its inode is the one the bind mount shows.
    if (stat(("/proc/" + std::string(e->d_name) + "/ns/net").c_str(), &st) == 0 && inodes.contains(st.st_ino))
      out.push_back(static_cast<pid_t>(pid));
  }
  closedir(d);
  return out;
}

// The "pid: command line" of a process, for the line saying it was killed.
std::string process_text(pid_t pid) {
  auto cmdline = netd::testing::read_text_file("/proc/" + std::to_string(pid) + "/cmdline");
  std::string text = cmdline.ok() ? *cmdline : "";
  std::replace(text.begin(), text.end(), '\0', ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return "process " + std::to_string(pid) + " (" + text.substr(0, 120) + ")";
}

// SIGKILLs the processes in those namespaces (netd, servers, clients a run started there) and
// waits, up to 5 s, until none is left (our own children are reaped).
void kill_processes_in(const std::set<ino_t>& inodes, std::vector<std::string>& removed) {
  auto deadline = Clock::now() + std::chrono::seconds(5);
  for (bool first = true;; first = false) {
    auto pids = processes_in(inodes);
    if (pids.empty() || Clock::now() > deadline) return;
    for (pid_t pid : pids) {
      std::string text = first ? process_text(pid) : "";
      if (kill(pid, SIGKILL) == 0 && first) removed.push_back(text);
      (void)waitpid(pid, nullptr, WNOHANG);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Kills what is inside (cgroup.kill) and removes the cgroup, sub-cgroups first.
void remove_cgroup(const std::string& dir) {
  (void)netd::testing::write_text_file(dir + "/cgroup.kill", "1");
  if (DIR* d = opendir(dir.c_str())) {
    std::vector<std::string> children;
    while (dirent* e = readdir(d))
      if (e->d_type == DT_DIR && e->d_name[0] != '.') children.push_back(dir + "/" + e->d_name);
    closedir(d);
    for (const auto& child : children) remove_cgroup(child);
  }
  // The killed processes leave it a moment later (rmdir says EBUSY until then).
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (rmdir(dir.c_str()) != 0 && errno == EBUSY && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

// Everything named for `pid`, and the paths recorded for it.
std::vector<std::string> remove_leftovers(pid_t pid, const std::vector<std::string>& paths,
                                          std::set<ino_t> inodes = {}) {
  std::vector<std::string> removed;
  const std::string prefix = made_name_prefix(pid);
  auto netns = entries_with_prefix(kNetnsDir, prefix);
  for (const auto& path : netns) {
    struct stat st {};
    if (stat(path.c_str(), &st) == 0) inodes.insert(st.st_ino);
  }
  kill_processes_in(inodes, removed);
  for (const auto& dir : entries_with_prefix(netd::testing::kCgroup2Root, prefix)) {
    remove_cgroup(dir);
    removed.push_back("cgroup " + dir);
  }
  for (const auto& path : netns) {
    (void)umount2(path.c_str(), MNT_DETACH);
    (void)unlink(path.c_str());
    removed.push_back("netns " + path.substr(std::string(kNetnsDir).size() + 1));
  }
  // Unlinking the pins detaches what netd linked (no fd holds them any more).
  for (const auto& dir : entries_with_prefix(netd::testing::kBpffsRoot, prefix)) {
    (void)netd::testing::remove_tree(dir);
    removed.push_back("bpffs dir " + dir);
  }
  for (const auto& path : paths) {
    struct stat st {};
    if (!path.starts_with(kTestbedDirPrefix) || lstat(path.c_str(), &st) != 0) continue;
    (void)netd::testing::remove_tree(path);
    removed.push_back("dir " + path);
  }
  return removed;
}

std::vector<netd::UniqueFd>& held_netns() {
  static std::vector<netd::UniqueFd> fds;
  return fds;
}

}  // namespace

std::string made_name_prefix(pid_t pid) { return "netd-t" + std::to_string(pid) + "-"; }

netd::Status register_run(const std::string& who) {
  if (mkdir(kRunRecordDir, 0755) != 0 && errno != EEXIST) return netd::errno_error(std::string("mkdir ") + kRunRecordDir);
  std::ofstream out(record_file(getpid()), std::ios::trunc);
  out << start_time(getpid()) << " " << who << "\n";
  out.flush();
  if (!out) return netd::make_error(EIO, "cannot write " + record_file(getpid()));
  return netd::ok_status();
}

void record_path(const std::string& path) {
  std::ofstream out(record_file(getpid()), std::ios::app);
  out << "path " << path << "\n";
}

void hold_netns(const std::string& path) {
  netd::UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.valid()) held_netns().push_back(std::move(fd));
}

void unregister_run() { (void)unlink(record_file(getpid()).c_str()); }

std::vector<std::string> sweep_stale() {
  std::vector<std::string> lines;
  auto records = all_records();
  bool route_bench_running = std::any_of(records.begin(), records.end(), [](const Record& r) {
    return r.pid != getpid() && r.who == "route_bench" && alive(r);
  });
  for (const auto& r : records) {
    if (r.pid == getpid() || alive(r)) continue;
    for (const auto& what : remove_leftovers(r.pid, r.paths))
      lines.push_back("removed " + what + " left by " + r.who + " (pid " + std::to_string(r.pid) + ", gone)");
    if (r.who == "route_bench" && !route_bench_running) {
      for (const char* path : kSudoersDropIns)
        if (unlink(path) == 0) lines.push_back(std::string("removed ") + path + " left by route_bench");
    }
    (void)unlink(record_file(r.pid).c_str());
  }
  return lines;
}

std::vector<std::string> sweep_own() {
  std::set<ino_t> inodes;
  for (const auto& fd : held_netns()) {
    struct stat st {};
    if (fstat(fd.get(), &st) == 0) inodes.insert(st.st_ino);
  }
  auto mine = read_record(getpid());
  auto removed = remove_leftovers(getpid(), mine ? mine->paths : std::vector<std::string>{}, std::move(inodes));
  held_netns().clear();
  return removed;
}

}  // namespace bench
