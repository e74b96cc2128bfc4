// load_client: one client of the load test and benchmark, run as the member of one load slice
// (load_slices.h). Connects to netd ($NETD_SOCKET), prints "ready", waits for a line on the go
// fd (so that every client is connected before any starts), makes its mixed requests
// (load_workload.h), hangs up, and prints its report (load_report.h).
//
//   load_client --index I --requests N [--seed S] [--foreign-id ID] [--go-fd FD]
//
// Exit 0: every reply was right; 1: some were wrong (the report says which); 2: no report
// (bad usage, netd unreachable, the connection broke, or no go). SIGTERM ends the requests
// early: the slice is restored and the report covers those made.
#include <signal.h>
#include <unistd.h>

#include <csignal>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "lib/client/client.h"
#include "tests/integration/load/load_report.h"
#include "tests/integration/load/load_slices.h"
#include "tests/integration/load/load_workload.h"

namespace {

// SIGTERM: finish the request in flight, restore the slice, report what was done.
volatile std::sig_atomic_t g_stop = 0;

void on_term(int) { g_stop = 1; }

int fail(const std::string& what) {
  std::fprintf(stderr, "load_client: %s\n", what.c_str());
  return 2;
}

std::optional<long> number(const char* text, long max) {
  char* end = nullptr;
  long v = std::strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || v < 0 || v > max) return std::nullopt;
  return v;
}

// True once a whole line (or at least one byte before EOF) arrived on fd.
bool wait_for_go(int fd) {
  char c = 0;
  bool any = false;
  for (;;) {
    ssize_t n = read(fd, &c, 1);
    if (n < 0 && errno == EINTR && !g_stop) continue;
    if (n <= 0) return any;
    any = true;
    if (c == '\n') return true;
  }
}

}  // namespace

int main(int argc, char** argv) {
  netd::testing::WorkloadOptions options;
  int index = -1;
  int go_fd = STDIN_FILENO;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::optional<long> v;
    if (flag == "--index" && (v = number(argv[i + 1], netd::testing::kMaxLoadSlices - 1))) index = static_cast<int>(*v);
    else if (flag == "--requests" && (v = number(argv[i + 1], 100000000))) options.requests = static_cast<int>(*v);
    else if (flag == "--seed" && (v = number(argv[i + 1], UINT32_MAX))) options.seed = static_cast<uint32_t>(*v);
    else if (flag == "--foreign-id" && (v = number(argv[i + 1], 4095))) options.foreign_id = static_cast<uint32_t>(*v);
    else if (flag == "--go-fd" && (v = number(argv[i + 1], 1024))) go_fd = static_cast<int>(*v);
    else return fail("bad argument " + flag + " (usage: --index I --requests N [--seed S] [--foreign-id ID] [--go-fd FD])");
  }
  if (argc % 2 != 1 || index < 0) return fail("usage: --index I --requests N [--seed S] [--foreign-id ID] [--go-fd FD]");
  options.slice = netd::testing::load_slice(index);
  options.stop = &g_stop;
  struct sigaction term{};
  term.sa_handler = on_term;  // no SA_RESTART: a wait for netd's reply returns EINTR and resumes
  sigaction(SIGTERM, &term, nullptr);

  netd::testing::LoadReport report;
  {
    auto client = netd::Client::connect(netd::Client::socket_path());
    if (!client.ok()) return fail(client.error().message);
    std::printf("ready\n");
    std::fflush(stdout);
    if (!wait_for_go(go_fd)) return fail("no go");
    auto done = netd::testing::run_workload(*client, options);
    if (!done.ok()) return fail(options.slice.name + ": " + done.error().message);
    report = std::move(done).value();
  }  // hung up before reporting: netd's connection count falls as clients finish
  std::string text = netd::testing::format_report(report);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
  return report.wrong == 0 ? 0 : 1;
}
