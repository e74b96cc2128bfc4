// The driver of a fuzz target in the normal build (no libFuzzer there): every file of the
// seed corpus, then a fixed number of mutants of them from a fixed seed, each fed to
// LLVMFuzzerTestOneInput. ctest runs it, so every target is built and exercised on every
// test run and cannot rot; in the --sanitize build it runs under ASan and UBSan.
//
//   <target>_replay [--mutants N] PATH...   PATH: a file, or a directory of inputs
//
// The run is the same on every machine (no time limit, no clock). An input that crashes
// is written to crash-<target>-replay in the working directory before the process dies.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

// Provided by the sanitizer runtimes when linked in; weak so the plain build links too.
extern "C" void __sanitizer_set_death_callback(void (*callback)()) __attribute__((weak));

namespace {

constexpr size_t kDefaultMutants = 4000;
constexpr size_t kMaxMutantBytes = 1 << 16;

const std::vector<uint8_t>* g_current = nullptr;
char g_crash_path[256] = "crash-replay";

// Async-signal-safe: open/write/close only.
void save_current() {
  if (g_current == nullptr) return;
  int fd = ::open(g_crash_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  (void)!::write(fd, g_current->data(), g_current->size());
  ::close(fd);
  static const char kMessage[] = "replay: the crashing input is in ";
  (void)!::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  (void)!::write(STDERR_FILENO, g_crash_path, std::strlen(g_crash_path));
  (void)!::write(STDERR_FILENO, "\n", 1);
}

void on_fatal_signal(int sig) {
  save_current();
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

std::vector<uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A few of libFuzzer's simpler mutations: enough to leave the seeds' paths a little, with
// the same results everywhere (std::mt19937 is specified exactly).
std::vector<uint8_t> mutate(std::vector<uint8_t> data, const std::vector<std::vector<uint8_t>>& seeds,
                            std::mt19937& rng) {
  auto below = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  static const char* const kTokens[] = {"\"", "{", "}", "[", "]", ",", ":", "\\u0000", "\n", " ", "0",
                                        "-1", "4294967296", "18446744073709551616", "1e999", "/", "=",
                                        "\xff", "\xc3\x28", "--", "-"};
  int rounds = 1 + static_cast<int>(below(4));
  for (int r = 0; r < rounds; ++r) {
    switch (below(7)) {
      case 0:  // flip a bit
        if (!data.empty()) data[below(data.size())] ^= static_cast<uint8_t>(1u << below(8));
        break;
      case 1:  // any byte
        if (!data.empty()) data[below(data.size())] = static_cast<uint8_t>(rng());
        break;
      case 2: {  // insert a byte
        data.insert(data.begin() + static_cast<long>(below(data.size() + 1)), static_cast<uint8_t>(rng()));
        break;
      }
      case 3: {  // delete a range
        if (data.empty()) break;
        size_t at = below(data.size());
        size_t n = 1 + below(std::min<size_t>(data.size() - at, 16));
        data.erase(data.begin() + static_cast<long>(at), data.begin() + static_cast<long>(at + n));
        break;
      }
      case 4: {  // duplicate a range
        if (data.empty()) break;
        size_t at = below(data.size());
        size_t n = 1 + below(std::min<size_t>(data.size() - at, 64));
        std::vector<uint8_t> copy(data.begin() + static_cast<long>(at), data.begin() + static_cast<long>(at + n));
        data.insert(data.begin() + static_cast<long>(below(data.size() + 1)), copy.begin(), copy.end());
        break;
      }
      case 5: {  // insert a token parsers care about
        const char* token = kTokens[below(std::size(kTokens))];
        data.insert(data.begin() + static_cast<long>(below(data.size() + 1)), token, token + std::strlen(token));
        break;
      }
      default: {  // splice: our head, another seed's tail
        const auto& other = seeds[below(seeds.size())];
        size_t keep = below(data.size() + 1);
        size_t from = below(other.size() + 1);
        data.resize(keep);
        data.insert(data.end(), other.begin() + static_cast<long>(from), other.end());
        break;
      }
    }
  }
  if (data.size() > kMaxMutantBytes) data.resize(kMaxMutantBytes);
  return data;
}

void run(const std::vector<uint8_t>& input) {
  g_current = &input;
  LLVMFuzzerTestOneInput(input.data(), input.size());
  g_current = nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  size_t mutants = kDefaultMutants;
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--mutants" && i + 1 < argc) {
      mutants = std::strtoull(argv[++i], nullptr, 10);
      continue;
    }
    std::error_code ec;
    if (std::filesystem::is_directory(arg, ec)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg))
        if (entry.is_regular_file()) files.push_back(entry.path());
    } else {
      files.emplace_back(arg);
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s [--mutants N] FILE|DIR...\n", argv[0]);
    return 2;
  }
  std::sort(files.begin(), files.end());  // directory order differs between file systems

  std::string name = std::filesystem::path(argv[0]).filename().string();
  std::snprintf(g_crash_path, sizeof g_crash_path, "crash-%s", name.c_str());
  // Under a sanitizer its own handlers report the crash, and call back before dying.
  if (__sanitizer_set_death_callback != nullptr)
    __sanitizer_set_death_callback(save_current);
  else
    for (int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) ::signal(sig, on_fatal_signal);

  std::vector<std::vector<uint8_t>> seeds;
  for (const auto& file : files) {
    seeds.push_back(read_file(file));
    run(seeds.back());
  }
  std::mt19937 rng(20240611);
  for (size_t i = 0; i < mutants; ++i) run(mutate(seeds[i % seeds.size()], seeds, rng));
  std::printf("%s: %zu seed inputs and %zu mutants, no crash\n", name.c_str(), seeds.size(), mutants);
  return 0;
}
