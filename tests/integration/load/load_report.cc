#include "tests/integration/load/load_report.h"

#include <algorithm>
#include <sstream>

namespace netd::testing {

uint64_t LoadReport::requests() const {
  uint64_t n = 0;
  for (const auto& [label, samples] : nanos) n += samples.size();
  return n;
}

std::string format_report(const LoadReport& r) {
  std::string out = "span " + std::to_string(r.start_ns) + " " + std::to_string(r.end_ns) + "\n";
  out += "wrong " + std::to_string(r.wrong) + "\n";
  for (const auto& e : r.examples) {
    std::string line = e;
    std::replace(line.begin(), line.end(), '\n', ' ');
    out += "example " + line + "\n";
  }
  for (const auto& [label, samples] : r.nanos) {
    out += "op " + label + " " + std::to_string(samples.size());
    for (uint64_t ns : samples) out += " " + std::to_string(ns);
    out += "\n";
  }
  out += "end\n";
  return out;
}

Result<LoadReport> parse_report(std::string_view text) {
  LoadReport r;
  std::istringstream in{std::string(text)};
  bool started = false;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string key;
    words >> key;
    if (key == "span") {
      started = true;
      words >> r.start_ns >> r.end_ns;
    } else if (!started) {
      continue;  // "ready" and anything else before the report
    } else if (key == "wrong") {
      words >> r.wrong;
    } else if (key == "example") {
      r.examples.push_back(line.size() > 8 ? line.substr(8) : "");
    } else if (key == "op") {
      std::string label;
      size_t n = 0;
      words >> label >> n;
      auto& samples = r.nanos[label];
      samples.reserve(samples.size() + n);
      for (size_t i = 0; i < n; ++i) {
        uint64_t ns = 0;
        if (!(words >> ns)) return make_error(EPROTO, "op " + label + ": fewer samples than announced");
        samples.push_back(ns);
      }
    } else if (key == "end") {
      return r;
    } else {
      return make_error(EPROTO, "unexpected line in a load report: " + line.substr(0, 80));
    }
    if (words.fail()) return make_error(EPROTO, "malformed line in a load report: " + line.substr(0, 80));
  }
  return make_error(EPROTO, started ? "the load report is cut short (no 'end')" : "no load report ('span' missing)");
}

void merge_report(LoadReport& into, LoadReport from) {
  if (from.start_ns != 0 && (into.start_ns == 0 || from.start_ns < into.start_ns)) into.start_ns = from.start_ns;
  into.end_ns = std::max(into.end_ns, from.end_ns);
  into.wrong += from.wrong;
  for (auto& e : from.examples) into.examples.push_back(std::move(e));
  for (auto& [label, samples] : from.nanos) {
    auto& to = into.nanos[label];
    to.insert(to.end(), samples.begin(), samples.end());
  }
}

}  // namespace netd::testing
