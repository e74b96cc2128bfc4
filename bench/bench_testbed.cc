#include "bench/bench_testbed.h"

#include <cstdio>
#include <cstdlib>

namespace bench {

std::optional<netd::testing::Testbed> start_testbed(const std::string& who) {
  netd::testing::TestbedOptions options;
  options.extra_netd = "requests_per_second_per_uid = 10000000\n";
  // netd is started only once the Testbed sits in its final place: should a moved-from Testbed
  // ever keep an engaged netd_ (its defaulted move did, before the explicit move constructor),
  // ~Testbed would call ChildProcess::wait() on a pid of -1, whose timeout path then runs
  // kill(-1, SIGKILL): every process on the machine. Not starting netd inside create() keeps
  // the benchmarks clear of that whatever the Testbed's move does.
  options.start_netd = false;
  auto bed = netd::testing::Testbed::create(options);
  if (!bed.ok()) {
    std::fprintf(stderr, "%s: cannot build the testbed: %s\n", who.c_str(), bed.error().message.c_str());
    return std::nullopt;
  }
  std::optional<netd::testing::Testbed> out;
  out.emplace(std::move(bed).value());
  if (auto started = out->start_netd(); !started.ok()) {
    std::fprintf(stderr, "%s: cannot start netd: %s\n", who.c_str(), started.error().message.c_str());
    return std::nullopt;
  }
  return out;
}

bool take_count(int argc, char** argv, int& i, int* out) {
  if (i + 1 >= argc) return false;
  char* end = nullptr;
  long v = std::strtol(argv[++i], &end, 10);
  if (*end != '\0' || v < 1 || v > 10000000) return false;
  *out = static_cast<int>(v);
  return true;
}

}  // namespace bench
