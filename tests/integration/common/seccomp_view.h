// What the kernel says of a process's threads and their seccomp filters: /proc/PID/status and
// the classic BPF program a thread runs under (PTRACE_SECCOMP_GET_FILTER), for the tests that
// check netd serves under exactly the filter the unit tests exercise.
#pragma once

#include <dirent.h>
#include <linux/filter.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace netd::testing {

// /proc/PID/status (or /proc/PID/task/TID/status) as key → value.
inline std::map<std::string, std::string> proc_status(const std::string& path) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    out[line.substr(0, colon)] = value;
  }
  return out;
}
inline std::map<std::string, std::string> proc_status(pid_t pid) {
  return proc_status("/proc/" + std::to_string(pid) + "/status");
}

// The thread ids of process `pid`.
inline std::vector<pid_t> threads_of(pid_t pid) {
  std::vector<pid_t> tids;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') tids.push_back(static_cast<pid_t>(std::atoi(e->d_name)));
    closedir(d);
  }
  return tids;
}

// The seccomp program thread `tid` runs under, as the kernel holds it (root stops the thread
// for a moment): empty when it could not be read.
inline std::string loaded_seccomp_program(pid_t tid) {
  if (ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) return "";
  std::string program;
  int status = 0;
  if (ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) == 0 && waitpid(tid, &status, __WALL) == tid) {
    long n = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, 0, nullptr);  // the instruction count
    if (n > 0) {
      std::vector<sock_filter> insns(static_cast<size_t>(n));
      if (ptrace(PTRACE_SECCOMP_GET_FILTER, tid, 0, insns.data()) == n)
        program.assign(reinterpret_cast<const char*>(insns.data()), insns.size() * sizeof(sock_filter));
    }
  }
  ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
  return program;
}

}  // namespace netd::testing
