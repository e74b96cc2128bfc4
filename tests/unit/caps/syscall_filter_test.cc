// The seccomp allow-list netd installs (netd/kernel/caps/syscall_filter.h): the table itself,
// and the filter as loaded into a forked child (no_new_privs makes that possible without root),
// which must refuse unlisted calls with EPERM and kill exec and a call made through another ABI.
#include "netd/kernel/caps/syscall_filter.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fixtures/test_macros.h"

namespace netd::kernel {
namespace {

using ::testing::HasSubstr;

TEST(SyscallFilterTable, EveryNameIsASyscallOfThisArchListedOnceWithAReason) {
  std::set<std::string> seen;
  for (const SyscallUse& use : allowed_syscalls()) {
    EXPECT_NE(seccomp_syscall_resolve_name(use.name), __NR_SCMP_ERROR) << use.name;
    EXPECT_TRUE(seen.insert(use.name).second) << use.name << " is listed twice";
    EXPECT_GT(std::strlen(use.why), 10u) << use.name;
  }
  for (const char* name : denied_syscalls()) EXPECT_EQ(seen.count(name), 0u) << name << " is both allowed and denied";
  // The fleet's additions: new names only, each with its reason.
  for (const SyscallUse& use : fleet_syscalls()) {
    EXPECT_NE(seccomp_syscall_resolve_name(use.name), __NR_SCMP_ERROR) << use.name;
    EXPECT_TRUE(seen.insert(use.name).second) << use.name << " is listed twice";
    EXPECT_GT(std::strlen(use.why), 10u) << use.name;
  }
  for (const char* name : denied_syscalls()) EXPECT_EQ(seen.count(name), 0u) << name << " is both allowed and denied";
}

// What netd must never be able to do whatever it is tricked into: run a program, start a
// process, trace one, change mounts, load a module.
TEST(SyscallFilterTable, AllowsNothingThatStartsOrChangesAnotherProgram) {
  for (const char* name : {"execve", "execveat", "fork", "vfork", "clone", "clone3", "ptrace", "process_vm_writev",
                           "mount", "umount2", "init_module", "finit_module", "kexec_load", "setuid", "capset",
                           "seccomp", "prctl", "unshare", "setns", "chroot", "pivot_root"}) {
    for (const SyscallUse& use : allowed_syscalls()) EXPECT_STRNE(use.name, name);
  }
  // The fleet's threads need clone and prctl, each held to one use (tested below in a child);
  // nothing else of the sort.
  for (const char* name : {"execve", "execveat", "fork", "vfork", "clone3", "ptrace", "process_vm_writev", "mount",
                           "umount2", "init_module", "finit_module", "kexec_load", "setuid", "capset", "seccomp",
                           "unshare", "setns", "chroot", "pivot_root"}) {
    for (const SyscallUse& use : fleet_syscalls()) EXPECT_STRNE(use.name, name);
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The words of a section of a man page (from `.SH NAME` to the next .SH).
std::string man_section(const std::string& page, const std::string& name) {
  size_t start = page.find(".SH " + name + "\n");
  if (start == std::string::npos) return "";
  size_t end = page.find("\n.SH ", start + 1);
  return page.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

TEST(SyscallFilterDocs, TheManPageAndReadmeNameEveryAllowedCall) {
  std::string man = man_section(read_file(NETD_MAN_PAGE), "SYSCALL FILTER");
  ASSERT_FALSE(man.empty()) << NETD_MAN_PAGE << " has no SYSCALL FILTER section";
  std::string readme = read_file(NETD_README);
  std::vector<SyscallUse> uses(allowed_syscalls().begin(), allowed_syscalls().end());
  uses.insert(uses.end(), fleet_syscalls().begin(), fleet_syscalls().end());
  for (const SyscallUse& use : uses) {
    // Names stand in bold in the man page (\fBname\fR) and as code in the README (`name`).
    EXPECT_THAT(man, HasSubstr(std::string("\\fB") + use.name + "\\fR")) << use.name;
    EXPECT_THAT(readme, HasSubstr(std::string("`") + use.name + "`")) << use.name;
  }
}

// systemd's syscall groups (`systemd-analyze syscall-filter`), each expanded to names.
std::map<std::string, std::vector<std::string>> systemd_groups() {
  std::map<std::string, std::vector<std::string>> groups;
  std::FILE* p = popen("systemd-analyze syscall-filter 2>/dev/null", "r");
  if (p == nullptr) return groups;
  std::string current;
  char line[512];
  while (std::fgets(line, sizeof line, p) != nullptr) {
    std::string l(line);
    if (!l.empty() && l.back() == '\n') l.pop_back();
    if (l.rfind("@", 0) == 0) current = l;
    else if (l.rfind("    ", 0) == 0 && l.find('#') == std::string::npos && !current.empty())
      groups[current].push_back(l.substr(4));
  }
  pclose(p);
  return groups;
}

void expand(const std::map<std::string, std::vector<std::string>>& groups, const std::string& word,
            std::set<std::string>& into) {
  if (word.rfind("@", 0) != 0) {
    into.insert(word);
    return;
  }
  auto it = groups.find(word);
  if (it == groups.end()) return;
  for (const auto& member : it->second) expand(groups, member, into);
}

// Under systemd the unit's SystemCallFilter= applies too: a call netd needs that the unit
// forbids would fail there however netd's own list reads. Both lists must agree.
TEST(SyscallFilterDocs, TheSystemdUnitAllowsEveryCallOnTheList) {
  auto groups = systemd_groups();
  if (groups.empty()) GTEST_SKIP() << "systemd-analyze is not installed";
  std::set<std::string> allowed, denied;
  std::istringstream unit(read_file(NETD_SERVICE_UNIT));
  int filter_lines = 0;
  for (std::string line; std::getline(unit, line);) {
    if (line.rfind("SystemCallFilter=", 0) != 0) continue;
    ++filter_lines;
    std::string value = line.substr(std::strlen("SystemCallFilter="));
    bool deny = !value.empty() && value[0] == '~';
    std::istringstream words(deny ? value.substr(1) : value);
    for (std::string w; words >> w;) expand(groups, w, deny ? denied : allowed);
  }
  ASSERT_EQ(filter_lines, 2) << "the unit's SystemCallFilter= lines changed: update this test";
  std::vector<SyscallUse> uses(allowed_syscalls().begin(), allowed_syscalls().end());
  uses.insert(uses.end(), fleet_syscalls().begin(), fleet_syscalls().end());
  for (const SyscallUse& use : uses) {
    EXPECT_EQ(allowed.count(use.name), 1u) << use.name << " is not in the unit's SystemCallFilter=";
    EXPECT_EQ(denied.count(use.name), 0u) << use.name << " is denied by the unit's SystemCallFilter=~";
  }
}

TEST(SyscallFilter, PseudoCodeChecksTheArchitectureFirst) {
  auto filter = SeccompFilter::build(SCMP_ACT_ERRNO(EPERM));
  ASSERT_OK(filter);
  auto pfc = filter->pseudo_code();
  ASSERT_OK(pfc);
#if defined(__x86_64__)
  EXPECT_THAT(*pfc, HasSubstr("if ($arch == 3221225534)"));  // AUDIT_ARCH_X86_64 only
#endif
  EXPECT_THAT(*pfc, HasSubstr("# invalid architecture action\naction KILL_PROCESS;"));
  EXPECT_THAT(*pfc, HasSubstr("# default action\n  action ERRNO(1);"));  // EPERM
}

constexpr const char* kNoFilterHere = "a sanitizer build: netd serves without the filter (kSyscallFilterInThisBuild)";

// Runs `body` in a forked child under the filter; its wait status.
int under_filter(const std::function<int()>& body, SyscallSet set = SyscallSet::kServing) {
  if (!kSyscallFilterInThisBuild) return -1;  // the callers skip first
  pid_t pid = fork();
  if (pid == 0) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(90);
    if (!install_syscall_filter(set).ok()) _exit(91);
    _exit(body());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

// 0 when the call failed with EPERM, else 1 (it ran) or 2 (another errno).
int refused(long rc) { return rc == -1 && errno == EPERM ? 0 : rc == -1 ? 2 : 1; }

bool killed_by_sigsys(int status) { return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS; }

// netd never execs: an attempt is an attack, and the process dies there (not even an error it
// could act on).
TEST(SyscallFilter, ExecKillsTheProcess) {
  if (!kSyscallFilterInThisBuild) GTEST_SKIP() << kNoFilterHere;
  char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
  char* const envp[] = {nullptr};
  int execve_status = under_filter([&] { return static_cast<int>(execve("/bin/true", argv, envp) == -1 ? 1 : 2); });
  EXPECT_TRUE(killed_by_sigsys(execve_status)) << "wait status " << execve_status;
  int execveat_status =
      under_filter([&] { return static_cast<int>(syscall(SYS_execveat, AT_FDCWD, "/bin/true", argv, envp, 0) == -1 ? 1 : 2); });
  EXPECT_TRUE(killed_by_sigsys(execveat_status)) << "wait status " << execveat_status;
}

TEST(SyscallFilter, AnUnlistedCallOrSocketFamilyIsRefusedWithEpermAndListedOnesWork) {
  if (!kSyscallFilterInThisBuild) GTEST_SKIP() << kNoFilterHere;
  int status = under_filter([] {
    if (refused(syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0)) != 0) return 1;
    if (refused(socket(AF_BLUETOOTH, SOCK_RAW, 0)) != 0) return 2;
    if (refused(syscall(SYS_fork)) != 0) return 3;
    if (refused(syscall(SYS_getpid)) != 0) return 4;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 5;
    return close(fd) == 0 ? 0 : 6;
  });
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// With the fleet: threads, never a process; thread names, no other prctl; no executable
// memory; and a thread started before the filter is under it as well (TSYNC).
TEST(SyscallFilter, TheFleetsThreadsMayStartThreadsButNoProcess) {
  if (!kSyscallFilterInThisBuild) GTEST_SKIP() << kNoFilterHere;
  int status = under_filter(
      [] {
        if (refused(syscall(SYS_fork)) != 0) return 1;
        // clone without CLONE_THREAD (a process, as fork makes it) is refused; clone3 is ENOSYS.
        if (refused(syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0)) != 0) return 2;
        if (!(syscall(SYS_clone3, nullptr, 0) == -1 && errno == ENOSYS)) return 3;
        pthread_t thread;
        if (pthread_create(&thread, nullptr, [](void*) -> void* { return nullptr; }, nullptr) != 0) return 4;
        if (pthread_join(thread, nullptr) != 0) return 5;
        if (prctl(PR_SET_NAME, "netd-test", 0, 0, 0) != 0) return 6;
        if (refused(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)) != 0) return 7;
        void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (page == MAP_FAILED) return 8;
        if (mprotect(page, 4096, PROT_READ) != 0) return 9;
        if (refused(mprotect(page, 4096, PROT_READ | PROT_EXEC)) != 0) return 10;
        if (refused(syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0)) != 0) return 11;
        return 0;
      },
      SyscallSet::kServingWithFleet);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // Without the fleet none of those: the base list starts no thread.
  int base = under_filter([] {
    pthread_t thread;
    int rc = pthread_create(&thread, nullptr, [](void*) -> void* { return nullptr; }, nullptr);
    return rc == EPERM || rc == EAGAIN ? 0 : 1;
  });
  ASSERT_TRUE(WIFEXITED(base)) << base;
  EXPECT_EQ(WEXITSTATUS(base), 0);
}

// A thread running before the filter is loaded is under it afterwards (netd's fleet watcher
// and gRPC's threads start before netd serves).
TEST(SyscallFilter, ThreadsRunningBeforeTheLoadAreUnderItToo) {
  if (!kSyscallFilterInThisBuild) GTEST_SKIP() << kNoFilterHere;
  pid_t pid = fork();
  if (pid == 0) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(90);
    struct Handover {
      int go[2];
      int done[2];
    } h{};
    if (pipe(h.go) != 0 || pipe(h.done) != 0) _exit(92);
    pthread_t thread;
    auto body = [](void* arg) -> void* {
      auto* h = static_cast<Handover*>(arg);
      char c;
      if (read(h->go[0], &c, 1) != 1) return nullptr;
      // ptrace is on no list: EPERM once the filter is on this thread too.
      char verdict = refused(syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0)) == 0 ? 'y' : 'n';
      (void)!write(h->done[1], &verdict, 1);
      return nullptr;
    };
    if (pthread_create(&thread, nullptr, body, &h) != 0) _exit(93);
    if (!install_syscall_filter(SyscallSet::kServingWithFleet).ok()) _exit(91);
    char c = 'g';
    if (write(h.go[1], &c, 1) != 1 || read(h.done[0], &c, 1) != 1) _exit(94);
    _exit(c == 'y' ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the thread started before the filter could still call ptrace";
}

#if defined(__x86_64__)
// getpid (refused with EPERM natively) through the x32 ABI (its number with bit 30; x32 numbers
// share x86_64's arch value, and libseccomp's filter checks for them) and through i386's int
// 0x80: not an EPERM the caller could shrug off, the process dies.
TEST(SyscallFilter, TheX32AbiIsNoWayAround) {
  if (!kSyscallFilterInThisBuild) GTEST_SKIP() << kNoFilterHere;
  int x32 = under_filter([] { return static_cast<int>(syscall(0x40000000 | SYS_getpid) == -1 ? 1 : 2); });
  EXPECT_TRUE(killed_by_sigsys(x32)) << "wait status " << x32;
}

TEST(SyscallFilter, TheI386AbiIsNoWayAround) {
  if (!kSyscallFilterInThisBuild) GTEST_SKIP() << kNoFilterHere;
  auto int80_getpid = [] {
    long rc = 20;  // getpid on i386
    asm volatile("int $0x80" : "+a"(rc) : : "memory");
    return rc > 0 ? 2 : 1;
  };
  // A kernel without IA32 emulation faults on int 0x80 (SIGSEGV) with or without a filter:
  // nothing to get around there.
  pid_t pid = fork();
  if (pid == 0) _exit(int80_getpid());
  int unfiltered = 0;
  waitpid(pid, &unfiltered, 0);
  if (WIFSIGNALED(unfiltered) && WTERMSIG(unfiltered) == SIGSEGV) GTEST_SKIP() << "no IA32 emulation in this kernel";
  int i386 = under_filter(int80_getpid);
  EXPECT_TRUE(killed_by_sigsys(i386)) << "wait status " << i386;
}
#endif

}  // namespace
}  // namespace netd::kernel
