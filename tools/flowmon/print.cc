#include "tools/flowmon/print.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>

namespace flowmon {

namespace {

using nlohmann::json;

json counter_json(const Counter& c) { return {{"packets", c.packets}, {"bytes", c.bytes}}; }

std::string endpoint(const netd::IpAddress& address, uint16_t port) {
  std::string text = address.is_v4() ? address.to_string() : "[" + address.to_string() + "]";
  return text + ":" + std::to_string(port);
}

std::string clock_text(double time) {
  time_t seconds = static_cast<time_t>(time);
  tm local{};
  localtime_r(&seconds, &local);
  char buffer[16];
  std::strftime(buffer, sizeof buffer, "%H:%M:%S", &local);
  return buffer;
}

std::string row(const char* format, auto... values) {
  char buffer[256];
  std::snprintf(buffer, sizeof buffer, format, values...);
  return buffer;
}

}  // namespace

std::string report_text(const Report& report, const ReportInfo& info, bool flows) {
  std::string out = row("--- report %llu at %s (%.2f s)", static_cast<unsigned long long>(info.number),
                        clock_text(info.time).c_str(), info.seconds);
  if (info.overruns != 0 || info.lost != 0)
    out += row(", %llu receive-buffer overruns (%llu packets lost)", static_cast<unsigned long long>(info.overruns),
               static_cast<unsigned long long>(info.lost));
  out += "\n";
  out += row("%5s %10s %12s %10s %12s\n", "slice", "pkts-in", "bytes-in", "pkts-out", "bytes-out");
  for (const auto& [slice, t] : report.slices)
    out += row("%5u %10llu %12llu %10llu %12llu\n", slice, static_cast<unsigned long long>(t.in.packets),
               static_cast<unsigned long long>(t.in.bytes), static_cast<unsigned long long>(t.out.packets),
               static_cast<unsigned long long>(t.out.bytes));
  if (!flows || report.flows.empty()) return out;
  out += row("%5s %-6s %-41s %-41s %10s %12s %10s %12s\n", "slice", "proto", "local", "remote", "pkts-in",
             "bytes-in", "pkts-out", "bytes-out");
  for (const auto& [key, t] : report.flows)
    out += row("%5u %-6s %-41s %-41s %10llu %12llu %10llu %12llu\n", key.slice, protocol_name(key.protocol).c_str(),
               endpoint(key.local, key.local_port).c_str(), endpoint(key.remote, key.remote_port).c_str(),
               static_cast<unsigned long long>(t.in.packets), static_cast<unsigned long long>(t.in.bytes),
               static_cast<unsigned long long>(t.out.packets), static_cast<unsigned long long>(t.out.bytes));
  return out;
}

std::string report_json(const Report& report, const ReportInfo& info, bool flows) {
  json slices = json::array();
  for (const auto& [slice, t] : report.slices)
    slices.push_back({{"slice", slice}, {"in", counter_json(t.in)}, {"out", counter_json(t.out)}});
  json line = {{"report", info.number}, {"time", info.time}, {"seconds", info.seconds}, {"slices", slices}};
  if (flows) {
    json list = json::array();
    for (const auto& [key, t] : report.flows)
      list.push_back({{"slice", key.slice},
                      {"proto", protocol_name(key.protocol)},
                      {"local", key.local.to_string()},
                      {"local_port", key.local_port},
                      {"remote", key.remote.to_string()},
                      {"remote_port", key.remote_port},
                      {"in", counter_json(t.in)},
                      {"out", counter_json(t.out)}});
    line["flows"] = list;
  }
  if (info.overruns != 0) line["overruns"] = info.overruns;
  if (info.lost != 0) line["lost"] = info.lost;
  return line.dump() + "\n";
}

}  // namespace flowmon
