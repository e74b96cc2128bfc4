#include "bench/udp_window.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <new>

#include "bench/bench_support.h"
#include "lib/core/unique_fd.h"

namespace bench {

SenderShm* make_sender_shm() {
  void* mem = mmap(nullptr, sizeof(SenderShm), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    print_note("udp: no shared memory for the sender (mmap failed)");
    return nullptr;
  }
  return new (mem) SenderShm();
}

void free_sender_shm(SenderShm* shm) {
  if (shm != nullptr) munmap(shm, sizeof(SenderShm));
}

std::optional<double> udp_window(const ClientPlace& place, UdpStream stream, double seconds, const std::string& part,
                                 const std::string& who, SenderShm* shm) {
  shm->sent.store(0);
  shm->stop.store(0);
  stream.mark = place.mark;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return std::nullopt;
  netd::UniqueFd rd(fds[0]), wr(fds[1]);
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return std::nullopt;
  if (pid == 0) {
    rd.reset();
    auto s = enter_child_place(place.netns_path, place.cgroup_procs, place.uid);
    if (s.ok() && place.cpu >= 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(place.cpu, &set);
      if (sched_setaffinity(0, sizeof set, &set) != 0) s = netd::errno_error("sched_setaffinity");
    }
    if (s.ok()) {
      const char ready = 'r';
      (void)!write(wr.get(), &ready, 1);
      s = send_udp(stream, &shm->sent, &shm->stop);
    }
    if (!s.ok()) std::fprintf(stderr, "# %s: %s: %s\n", part.c_str(), who.c_str(), s.error().message.c_str());
    std::fflush(stderr);
    _exit(s.ok() ? 0 : 1);
  }
  wr.reset();
  char ready = 0;
  std::optional<double> pps;
  if (wait_readable(rd.get(), 5000) == Wait::kReady && read(rd.get(), &ready, 1) == 1) {
    const uint64_t c0 = shm->sent.load();
    const auto t0 = std::chrono::steady_clock::now();
    // The pipe stays quiet while the sender sends; it hangs up if the sender dies.
    const auto waited = wait_readable(rd.get(), static_cast<int>(seconds * 1000));
    const uint64_t c1 = shm->sent.load();
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (waited == Wait::kTimeout && elapsed > 0) pps = static_cast<double>(c1 - c0) / elapsed;
  }
  shm->stop.store(1);
  const int code = wait_child(pid);
  if (code != 0 && !interrupted()) print_note(part + ": " + who + " exited " + std::to_string(code));
  return code == 0 ? pps : std::nullopt;
}

}  // namespace bench
