#include "tests/integration/load/netd_usage.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace netd::testing {

namespace {

uint64_t vm_rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));  // "VmRSS:   1234 kB"
  return 0;
}

double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // "pid (comm) state ..." with comm free to hold spaces: fields count from the last ')'.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;  // state (3) … cmajflt (13)
  unsigned long long utime = 0, stime = 0;
  fields >> utime >> stime;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

NetdUsage netd_usage(const Testbed& bed) {
  pid_t pid = bed.netd_pid();
  return {bed.netd_fds(), vm_rss_kib(pid), cpu_seconds(pid)};
}

}  // namespace netd::testing
