// What `sliceip -a fleet status` prints: one row per key under <prefix>nodes/, as a table or
// (-j) as JSON. Pure: the keys and the time in, text out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <map>
#include "lib/fleet/node_record.h"

namespace netd::fleet {

// The keys read under the prefix (netd/fleet/fleet_policy.h's KeyMap, the same type): sliceip
// links this file and nothing of netd/.
using KeyMap = std::map<std::string, std::string>;

struct StatusRow {
  std::string node;                   // from the key (<prefix>nodes/<node>)
  std::optional<NodeRecord> record;   // nullopt: the value is not a record
  std::string error;                  // then: why
};

// The rows of the keys under <prefix>nodes/ (other keys are skipped), by node name.
std::vector<StatusRow> status_rows(const KeyMap& keys, std::string_view prefix);

// NODE REVISION APPLIED UP PID VERSION HEALTH, ages relative to `now` (seconds since the
// epoch); the revision the most nodes run is the fleet's, and a node on another is marked.
std::string format_status_table(const std::vector<StatusRow>& rows, int64_t now);
// A JSON array of the records (times as UTC text); an unreadable one as {"node", "error"}.
std::string format_status_json(const std::vector<StatusRow>& rows, bool pretty);

}  // namespace netd::fleet
