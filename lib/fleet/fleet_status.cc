#include "lib/fleet/fleet_status.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "lib/fleet/utc_time.h"

namespace netd::fleet {

namespace {

constexpr std::string_view kNodes = "nodes/";

std::string printable(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

// The revision most readable records carry (the highest of equals): what "behind" is against.
int64_t common_revision(const std::vector<StatusRow>& rows) {
  std::map<int64_t, size_t> count;
  for (const StatusRow& row : rows)
    if (row.record) ++count[row.record->revision];
  int64_t best = 0;
  size_t best_count = 0;
  for (const auto& [revision, n] : count)
    if (n >= best_count) best = revision, best_count = n;
  return best;
}

}  // namespace

std::vector<StatusRow> status_rows(const KeyMap& keys, std::string_view prefix) {
  std::vector<StatusRow> rows;
  const std::string nodes = std::string(prefix) + std::string(kNodes);
  for (auto it = keys.lower_bound(nodes); it != keys.end() && it->first.starts_with(nodes); ++it) {
    StatusRow row;
    row.node = printable(std::string_view(it->first).substr(nodes.size()));
    auto record = node_record_from_json(it->second);
    if (record.ok())
      row.record = std::move(record).value();
    else
      row.error = record.error().message;
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string format_status_table(const std::vector<StatusRow>& rows, int64_t now) {
  std::vector<std::vector<std::string>> cells = {{"NODE", "REVISION", "APPLIED", "UP", "PID", "VERSION", "HEALTH"}};
  const int64_t common = common_revision(rows);
  for (const StatusRow& row : rows) {
    if (!row.record) {
      cells.push_back({row.node, "-", "-", "-", "-", "-", printable(row.error)});
      continue;
    }
    const NodeRecord& r = *row.record;
    std::string revision = r.revision == 0 ? "none" : std::to_string(r.revision);
    if (r.revision != common) revision += "*";
    cells.push_back({row.node, revision, r.applied_at == 0 ? "never" : format_age(now - r.applied_at) + " ago",
                     r.started_at == 0 ? "-" : format_age(now - r.started_at), std::to_string(r.pid),
                     printable(r.version), printable(r.health)});
  }
  std::vector<size_t> width(cells[0].size(), 0);
  for (const auto& line : cells)
    for (size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], line[i].size());
  std::string out;
  for (const auto& line : cells) {
    std::string text;
    for (size_t i = 0; i < line.size(); ++i) {
      text += line[i];
      if (i + 1 < line.size()) text.append(width[i] - line[i].size() + 2, ' ');
    }
    out += text + "\n";
  }
  if (rows.empty()) return "no nodes registered\n";
  auto behind = [&](const StatusRow& r) { return r.record && r.record->revision != common; };
  if (std::any_of(rows.begin(), rows.end(), behind))
    out += "* not the revision most nodes run (" + std::to_string(common) + ")\n";
  return out;
}

std::string format_status_json(const std::vector<StatusRow>& rows, bool pretty) {
  nlohmann::ordered_json array = nlohmann::ordered_json::array();
  for (const StatusRow& row : rows) {
    if (row.record) {
      array.push_back(nlohmann::ordered_json::parse(to_json(*row.record)));
    } else {
      array.push_back({{"node", row.node}, {"error", row.error}});
    }
  }
  return array.dump(pretty ? 2 : -1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace netd::fleet
