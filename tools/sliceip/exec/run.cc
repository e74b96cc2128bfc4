#include "tools/sliceip/exec/run.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "lib/client/client.h"
#include "tools/sliceip/exec/capture_responder.h"
#include "tools/sliceip/exec/exit_status.h"
#include "tools/sliceip/exec/launcher.h"
#include "tools/sliceip/exec/seccomp_program.h"
#include "tools/sliceip/exec/slice_facts.h"
#include "tools/sliceip/exec/sockopt_responder.h"
#include "tools/sliceip/exec/socket_responder.h"
#include "tools/sliceip/exec/supervisor.h"
#include "tools/sliceip/exec/trap_set.h"
#include "tools/sliceip/exec/tun_responder.h"

namespace sliceip::exec {

namespace {

// What sliceip passes on to the program when a process (not the terminal) sends it.
constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM};

[[noreturn]] void fail(int code, const std::string& message) {
  std::fprintf(stderr, "sliceip: exec: %s\n", message.c_str());
  std::fflush(stderr);
  _exit(code);
}

}  // namespace

void run(const std::vector<std::string>& argv, const std::string& socket_option) {
  const std::string path = netd::Client::socket_path(socket_option);
  auto client = netd::Client::connect(path);
  if (!client.ok()) fail(kExitOwnFailure, "cannot reach netd at " + path + ": " + client.error().message);
  auto facts = fetch_slice_facts(*client);
  if (!facts.ok()) fail(kExitOwnFailure, facts.error().message);
  auto filter = build_filter(trap_set_for(*facts));
  if (!filter.ok()) fail(kExitOwnFailure, "building the seccomp filter: " + filter.error().message);

  // Blocked before the fork, so none is lost between the program's start and the first poll.
  sigset_t forwarded, original;
  sigemptyset(&forwarded);
  for (int sig : kForwarded) sigaddset(&forwarded, sig);
  sigprocmask(SIG_BLOCK, &forwarded, &original);
  netd::UniqueFd signals(signalfd(-1, &forwarded, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signals.valid()) fail(kExitOwnFailure, std::string("signalfd: ") + std::strerror(errno));

  LaunchOutcome launched = launch(argv, *filter, original);
  if (!launched.ok) fail(launched.exit_code, launched.error);

  NetdLink netd(std::move(*client), socket_option);
  RefusalLog refusals;
  SocketResponder sockets(netd, refusals);
  SockoptResponder socket_options(netd, refusals);
  CaptureResponder captures(netd, refusals);
  CallRouter router;
  router.route(SYS_bind, captures);
  router.route(SYS_socket, sockets);
  router.route(SYS_setsockopt, socket_options);
  TunResponder tun_devices(netd, refusals);
  for (int nr : tun_syscalls()) router.route(nr, tun_devices);
  Supervisor supervisor(std::move(launched.child), router, std::move(signals), original);
  SupervisionEnd end = supervisor.run();
  for (const auto& line : refusals.summary()) std::fprintf(stderr, "%s\n", line.c_str());
  if (end.detached) {
    std::fflush(stderr);
    _exit(0);
  }
  exit_like(end.wait_status);
}

}  // namespace sliceip::exec
