// netd: the privileged side. main() is a straight list of set-up steps, each returning an error.
#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "netd/daemon/daemon.h"
#include "netd/daemon/log.h"
#include "netd/daemon/notify.h"
#include "netd/kernel/caps/privileges.h"
#include "netd/kernel/caps/syscall_filter.h"
#include "netd/policy/loader.h"

namespace {

constexpr const char* kDefaultPolicyPath = "/etc/netd/policy.toml";

constexpr const char* kUsage =
    "Usage: netd [--policy FILE] [--socket PATH] [--foreground] [--no-syscall-filter]\n"
    "       netd --check-policy [FILE] [--etcd-prefix PREFIX]\n"
    "       netd [--policy FILE] --teardown\n"
    "       netd --print-default-policy\n"
    "\n"
    "Lets non-admin users (slices) do privileged network operations within a policy.\n"
    "\n"
    "  --policy FILE         policy file (default /etc/netd/policy.toml, plus policy.d/*.toml\n"
    "                        beside it; if it does not exist, the built-in policy)\n"
    "  --socket PATH         listen here instead of the policy's socket\n"
    "  --foreground          stay in the foreground (default: detach once listening)\n"
    "  --no-syscall-filter   serve without the seccomp allow-list of system calls (to measure\n"
    "                        its cost, or to tell whether it refused something; see netd(8))\n"
    "  --check-policy [FILE] validate FILE (or the default) and print what netd would do; exit 0/1\n"
    "                        (policy_source = \"etcd\": with the keys under its etcd_prefix now)\n"
    "  --etcd-prefix PREFIX  with --check-policy: the keys under PREFIX instead (a staging prefix,\n"
    "                        to validate before copying them under the fleet's)\n"
    "  --teardown            remove every kernel object netd made under the policy, then exit\n"
    "  --print-default-policy print the built-in policy (TOML)\n"
    "  -h, --help            this text\n"
    "  --version             print the version\n"
    "\n"
    "Signals: SIGHUP reloads the policy (an invalid one is refused, the old one stays);\n"
    "SIGTERM/SIGINT stop serving. Isolation stays in force while netd is down.\n";

struct Options {
  std::string policy_path;
  bool policy_given = false;
  std::string socket;
  bool foreground = false;
  bool syscall_filter = true;
  bool check_policy = false;
  bool teardown = false;
  bool print_default = false;
  std::string etcd_prefix;  // --check-policy of another prefix
};

int usage_error(const std::string& message) {
  netd::daemon::log_line(message + "\nTry 'netd --help'.");
  return 1;
}

// Mounts what needs more, then keeps only the capabilities netd uses (kernel/caps/privileges.h): 0, or the
// exit status once the reason is printed. Without a capability every request needs, netd does
// not start; without one some requests need, it starts and those requests say what is missing.
int keep_least_privilege(const netd::policy::Policy& policy) {
  if (auto prepared = netd::daemon::prepare_host(policy); !prepared.ok()) {
    netd::daemon::log_line(prepared.error().message);
    return 2;
  }
  if (auto dropped = netd::kernel::drop_privileges(); !dropped.ok()) {
    netd::daemon::log_line(dropped.error().message);
    return 2;
  }
  int status = 0;
  for (const auto* use : netd::kernel::missing_capabilities()) {
    netd::daemon::log_line(std::string(use->needed_to_start ? "cannot run without " : "warning: no ") + use->name +
                           ": it " + use->why);
    if (use->needed_to_start) status = 2;
  }
  return status;
}

netd::daemon::PolicySource policy_source(const Options& o) {
  if (o.policy_given) return {o.policy_path};
  if (access(kDefaultPolicyPath, F_OK) == 0) return {kDefaultPolicyPath};
  return {""};  // built-in
}

}  // namespace

int main(int argc, char** argv) {
  // Fixed thresholds. glibc raises the mmap threshold to the size of each large block freed,
  // so start-up's big transient buffers (nft batches and netlink dumps of thousands of slices)
  // would come from the heap and leave it fragmented for good: about 8 MiB at 4096 slices.
  // Fixing it also fixes the trim threshold, which must stay above what a request allocates
  // and frees (an nft batch's 256 KiB): returned at each free, it costs two brk calls and
  // page faults per request.
  mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
  Options o;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const char* flag) -> const std::string* {
      if (i + 1 >= args.size()) return nullptr;
      (void)flag;
      return &args[++i];
    };
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--version") {
      std::puts("netd 0.1.0");
      return 0;
    } else if (a == "--policy") {
      const std::string* v = value("--policy");
      if (v == nullptr) return usage_error("--policy needs a FILE");
      o.policy_path = *v;
      o.policy_given = true;
    } else if (a == "--socket") {
      const std::string* v = value("--socket");
      if (v == nullptr) return usage_error("--socket needs a PATH");
      o.socket = *v;
    } else if (a == "--foreground") {
      o.foreground = true;
    } else if (a == "--no-syscall-filter") {
      o.syscall_filter = false;
    } else if (a == "--check-policy") {
      o.check_policy = true;
      if (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0) {
        o.policy_path = args[++i];
        o.policy_given = true;
      }
    } else if (a == "--etcd-prefix") {
      const std::string* v = value("--etcd-prefix");
      if (v == nullptr) return usage_error("--etcd-prefix needs a PREFIX");
      if (v->empty() || v->front() != '/' || v->back() != '/')
        return usage_error("--etcd-prefix: a prefix starts and ends with '/' (as [netd] etcd_prefix)");
      o.etcd_prefix = *v;
    } else if (a == "--teardown") {
      o.teardown = true;
    } else if (a == "--print-default-policy") {
      o.print_default = true;
    } else {
      return usage_error("unknown option '" + a + "'");
    }
  }

  if (o.print_default) {
    std::fputs(netd::policy::default_policy_text().c_str(), stdout);
    return 0;
  }

  netd::daemon::PolicySource source = policy_source(o);
  if (o.check_policy) {
    auto policy = source.load();
    if (!policy.ok()) {
      netd::daemon::log_line(policy.error().message);
      return 1;
    }
    if (policy->netd.policy_source == netd::policy::PolicySource::kEtcd && !source.path.empty()) {
      auto fleet = netd::daemon::check_fleet_policy(source.path, policy->netd, o.etcd_prefix);
      if (!fleet.ok()) {
        netd::daemon::log_line(fleet.error().message);
        return 1;
      }
      for (const auto& note : fleet->notes) netd::daemon::log_line("fleet: " + note);
      std::printf("%s with etcd revision %lld of %s: valid\n%s", source.describe().c_str(),
                  static_cast<long long>(fleet->revision), fleet->prefix.c_str(),
                  netd::policy::describe_policy(fleet->policy).c_str());
      return 0;
    }
    if (!o.etcd_prefix.empty()) return usage_error("--etcd-prefix: " + source.describe() + " does not say policy_source = \"etcd\"");
    std::printf("%s: valid\n%s", source.describe().c_str(), netd::policy::describe_policy(*policy).c_str());
    return 0;
  }

  if (geteuid() != 0) return usage_error("must run as root (it programs the kernel for others)");

  auto policy = source.load();
  if (!policy.ok()) {
    netd::daemon::log_line(policy.error().message);
    return 1;
  }
  if (int code = keep_least_privilege(*policy); code != 0) return code;

  if (o.teardown) {
    // Exit 0 only when nothing is left; else one line per object that stays.
    const netd::ops::TeardownReport report = netd::daemon::teardown(*policy);
    for (const auto& line : report.lines()) netd::daemon::log_line("teardown: left behind: " + line);
    return report.clean() ? 0 : 2;
  }

  // Many clients, each connection one fd: use the whole hard limit.
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }

  // Detach only once listening, so `netd && client` never races the socket.
  int ready_pipe[2] = {-1, -1};
  if (!o.foreground) {
    if (pipe2(ready_pipe, O_CLOEXEC) < 0) {
      std::perror("netd: pipe");
      return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
      std::perror("netd: fork");
      return 2;
    }
    if (pid > 0) {
      close(ready_pipe[1]);
      char status = 1;
      ssize_t n = read(ready_pipe[0], &status, 1);
      return n == 1 && status == 0 ? 0 : 2;
    }
    close(ready_pipe[0]);
    setsid();
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull >= 0) {
      dup2(devnull, STDIN_FILENO);
      dup2(devnull, STDOUT_FILENO);
      close(devnull);
    }
  }

  // The loader in `source` goes with it: it read the files once above and watches them.
  auto daemon = netd::daemon::Daemon::start(std::move(source), o.socket);
  if (!daemon.ok()) {
    netd::daemon::log_line(daemon.error().message);
    return 2;
  }
  // Start-up is done (policy applied, listening); from here on netd only makes the calls on the
  // allow-list, and nothing has been served yet.
  if (o.syscall_filter && !netd::kernel::kSyscallFilterInThisBuild) {
    netd::daemon::log_line(
        "warning: serving without the system call filter (a sanitizer build: the sanitizers' runtime makes calls "
        "outside its list)");
  } else if (o.syscall_filter) {
    // With the fleet, the watcher's and gRPC's threads run already: the filter goes on them
    // too, allowing what they call besides.
    const auto calls = policy->netd.policy_source == netd::policy::PolicySource::kEtcd
                           ? netd::kernel::SyscallSet::kServingWithFleet
                           : netd::kernel::SyscallSet::kServing;
    if (auto filtered = netd::kernel::install_syscall_filter(calls); !filtered.ok()) {
      netd::daemon::log_line(filtered.error().message);
      return 2;
    }
  } else {
    netd::daemon::log_line("warning: serving without the system call filter (--no-syscall-filter)");
  }
  netd::daemon::log_line("serving with " + (*daemon)->policy_described());
  netd::daemon::notify_ready((*daemon)->status_line());
  if (ready_pipe[1] >= 0) {
    char ok = 0;
    (void)!write(ready_pipe[1], &ok, 1);
    close(ready_pipe[1]);
  }
  auto ran = (*daemon)->run();
  if (!ran.ok()) {
    netd::daemon::log_line(ran.error().message);
    return 2;
  }
  return 0;
}
