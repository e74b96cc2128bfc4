// The policy loader (netd/policy/loader.h) on real files: the input is a main policy file and
// drop-ins, written into a private directory as policy.toml and policy.d/NAME, then read
// with load_policy() as netd reads them at start and on SIGHUP.
//
//   main file text
//   %%NAME          a drop-in named NAME follows (NAME: [A-Za-z0-9._-]{1,32}, else NN.toml,
//   drop-in text     so names that do not end in .toml, or start with a dot, are tried too)
//   %%              ...
//
// Checked beyond memory safety: with no drop-ins, load_policy(file) and parse_policy(text)
// agree exactly; a loaded policy can be described and planned (shaping) without trouble, and
// the shaping plans (egress and ingress) stay within the rates the policy gives.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "netd/policy/loader.h"
#include "netd/policy/shape_plan.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace fs = std::filesystem;
using netd::fuzz::check;

constexpr size_t kMaxDropIns = 8;

struct File {
  std::string name;
  std::string text;
};

std::string drop_in_name(std::string_view wanted, size_t index) {
  bool ok = !wanted.empty() && wanted.size() <= 32 && wanted != "." && wanted != "..";
  for (char c : wanted)
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
  if (ok) return std::string(wanted);
  return (index < 10 ? "0" : "") + std::to_string(index) + ".toml";
}

// The main file's text, then the drop-ins.
std::vector<File> split(std::string_view input) {
  std::vector<File> files{{"policy.toml", ""}};
  size_t pos = 0;
  for (;;) {
    size_t marker = input.find("\n%%", pos);
    if (marker == std::string_view::npos || files.size() > kMaxDropIns) {
      files.back().text = std::string(input.substr(pos));
      return files;
    }
    files.back().text = std::string(input.substr(pos, marker + 1 - pos));
    size_t name_start = marker + 3;
    size_t line_end = input.find('\n', name_start);
    if (line_end == std::string_view::npos) line_end = input.size();
    files.push_back({drop_in_name(input.substr(name_start, line_end - name_start), files.size()), ""});
    pos = line_end < input.size() ? line_end + 1 : input.size();
  }
}

const fs::path& directory() {
  static const fs::path dir = [] {
    // tmpfs when there is one: every input writes and removes its files.
    std::string tmpl = (fs::is_directory("/dev/shm") ? "/dev/shm" : "/tmp") + std::string("/netd-fuzz-policy-XXXXXX");
    check(mkdtemp(tmpl.data()) != nullptr, "mkdtemp");
    std::atexit([] { fs::remove_all(directory()); });
    return fs::path(tmpl);
  }();
  return dir;
}

void write(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  check(out.good(), "writing " + path.string());
}

std::string outcome(const netd::Result<netd::policy::Policy>& p) {
  return p.ok() ? "ok:\n" + netd::policy::describe_policy(*p) : "error: " + p.error().message;
}

// The plan's classes in `dir`: the top class at that direction's uplink rate, the default
// class with what the slices are not guaranteed (at least 1 %), each shaped slice at its
// policy rates; leaves byte-limited on ingress only, within the limit's bounds.
void check_shaping(const netd::policy::Policy& p, netd::policy::ShapeDirection dir) {
  using netd::policy::ShapeDirection;
  const bool ingress = dir == ShapeDirection::kIngress;
  netd::policy::UplinkShapePlan plan = netd::policy::plan_shaping(p, {}, dir);
  const uint64_t uplink = ingress ? p.netd.uplink_rate_in_bps : p.netd.uplink_rate_bps;
  check(plan.classes.size() >= 2, "a plan without top and default class");
  check(plan.classes[0].rate_bps == uplink && plan.classes[0].ceil_bps == uplink, "top class is not the uplink rate");
  check(plan.classes[0].leaf_limit_bytes == 0, "the top class has a leaf limit");
  unsigned __int128 guaranteed = 0;
  for (size_t i = 1; i < plan.classes.size(); ++i) {
    const auto& c = plan.classes[i];
    check(ingress ? c.leaf_limit_bytes >= netd::policy::kMinIngressLeafBytes &&
                        c.leaf_limit_bytes <= netd::policy::kMaxIngressLeafBytes
                  : c.leaf_limit_bytes == 0,
          "leaf limit " + std::to_string(c.leaf_limit_bytes) + " out of bounds");
    if (i == 1) continue;
    const netd::policy::SliceSpec* s = p.find_by_id(c.slice_id);
    check(s != nullptr, "a class for a slice the policy does not have");
    auto limits = netd::policy::policy_limits(*s, dir);
    check(c.rate_bps == limits.rate_bps && c.ceil_bps == limits.ceil_bps, "a class not at its slice's policy");
    check(c.rate_bps <= c.ceil_bps && c.ceil_bps <= uplink, "a slice class above its ceil or the uplink");
    guaranteed += c.rate_bps;
  }
  uint64_t floor = std::max<uint64_t>(uplink / 100, netd::policy::kMinShapeRate);
  uint64_t expected = guaranteed < uplink ? std::max<uint64_t>(uplink - static_cast<uint64_t>(guaranteed), floor)
                                          : floor;
  check(plan.classes[1].rate_bps == expected, "default class rate " + std::to_string(plan.classes[1].rate_bps) +
                                                  ", expected " + std::to_string(expected));
  if (ingress)
    check(netd::policy::shapes_ingress(p) == (plan.classes.size() > 2), "shapes_ingress disagrees with the plan");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<File> files = split(std::string_view(reinterpret_cast<const char*>(data), size));
  const fs::path& dir = directory();
  fs::remove_all(dir / "policy.d");
  if (files.size() > 1) fs::create_directory(dir / "policy.d");
  for (size_t i = 1; i < files.size(); ++i) write(dir / "policy.d" / files[i].name, files[i].text);
  const std::string path = dir / "policy.toml";
  write(path, files[0].text);

  auto loaded = netd::policy::load_policy(path);
  if (files.size() == 1)
    check(outcome(loaded) == outcome(netd::policy::parse_policy(files[0].text, path)),
          "load_policy and parse_policy disagree about one file");
  if (loaded.ok()) {
    check_shaping(*loaded, netd::policy::ShapeDirection::kEgress);
    check_shaping(*loaded, netd::policy::ShapeDirection::kIngress);
  }
  return 0;
}
