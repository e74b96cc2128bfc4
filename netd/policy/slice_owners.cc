#include "netd/policy/slice_owners.h"

#include <cerrno>
#include <charconv>

namespace netd::policy {

namespace {

constexpr std::string_view kHeader =
    "# netd: the slice that held each id and its raw rights (id name raw=... capture_all=...), written at every "
    "applied policy\n";

bool valid_word(std::string_view word) {
  if (word.empty()) return false;
  for (char c : word)
    if (c <= ' ' || c == 0x7f) return false;
  return true;
}

std::vector<std::string_view> split(std::string_view text, char by) {
  std::vector<std::string_view> out;
  for (;;) {
    size_t at = text.find(by);
    out.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return out;
    text.remove_prefix(at + 1);
  }
}

}  // namespace

namespace {

SliceOwner owner_of(const SliceSpec& s) { return SliceOwner{s.name, true, s.raw, s.capture_all}; }

}  // namespace

SliceOwners owners_of(const Policy& p) {
  SliceOwners out;
  for (const auto& s : p.slices) out[s.id] = owner_of(s);
  return out;
}

bool update_owners(SliceOwners& owners, const SliceDiff& diff) {
  bool changed = false;
  for (const SliceSpec* s : diff.removed) changed = owners.erase(s->id) != 0 || changed;
  auto put = [&](const SliceSpec& s) {
    SliceOwner now = owner_of(s);
    auto [it, inserted] = owners.try_emplace(s.id, now);
    if (!inserted && it->second == now) return;
    if (!inserted) it->second = std::move(now);
    changed = true;
  };
  for (const SliceSpec* s : diff.added) put(*s);
  for (const SliceDiff::Change& c : diff.changed) put(*c.next);
  return changed;
}

namespace {

// One record line (not a comment): "id name raw=KIND,... capture_all=true|false", or the older
// "id name". `number` names it in a refusal.
Result<std::pair<uint32_t, SliceOwner>> parse_owner_line(std::string_view line, size_t number) {
  auto refuse = [&](const std::string& why) {
    return make_error(EINVAL, "line " + std::to_string(number) + " (\"" + std::string(line) + "\"): " + why);
  };
  const std::vector<std::string_view> fields = split(line, ' ');
  if (fields.size() != 2 && fields.size() != 4) return refuse("not \"id name raw=... capture_all=...\"");
  uint32_t id = 0;
  auto [ptr, ec] = std::from_chars(fields[0].data(), fields[0].data() + fields[0].size(), id);
  if (ec != std::errc() || ptr != fields[0].data() + fields[0].size() || id == 0)
    return refuse("the id is not a positive number");
  SliceOwner owner;
  if (!valid_word(fields[1])) return refuse("the name is empty or has control characters");
  owner.name = std::string(fields[1]);
  if (fields.size() == 4) {
    owner.rights_known = true;
    if (!fields[2].starts_with("raw=")) return refuse("the third field is not raw=KIND,...");
    if (std::string_view kinds = fields[2].substr(4); !kinds.empty())
      for (std::string_view kind : split(kinds, ',')) {
        if (!valid_word(kind)) return refuse("an empty raw kind");
        owner.raw.emplace_back(kind);
      }
    if (fields[3] != "capture_all=true" && fields[3] != "capture_all=false")
      return refuse("the fourth field is not capture_all=true or capture_all=false");
    owner.capture_all = fields[3] == "capture_all=true";
  }
  return std::pair<uint32_t, SliceOwner>(id, std::move(owner));
}

void append_owner_line(std::string& out, uint32_t id, const SliceOwner& owner) {
  out += std::to_string(id) + " " + owner.name;
  if (!owner.rights_known) {
    out += "\n";
    return;
  }
  out += " raw=";
  for (size_t i = 0; i < owner.raw.size(); ++i) out += (i ? "," : "") + owner.raw[i];
  out += owner.capture_all ? " capture_all=true\n" : " capture_all=false\n";
}

}  // namespace

std::string format_slice_owners(const SliceOwners& owners) {
  std::string out(kHeader);
  for (const auto& [id, owner] : owners) append_owner_line(out, id, owner);
  return out;
}

Result<SliceOwners> parse_slice_owners(std::string_view text) {
  SliceOwners out;
  size_t number = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    if (end == std::string_view::npos)
      return make_error(EINVAL, "line " + std::to_string(number + 1) + " is cut short (no newline)");
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    ++number;
    if (!line.empty() && line.front() == '#') continue;
    NETD_ASSIGN_OR_RETURN(auto entry, parse_owner_line(line, number));
    if (!out.emplace(entry.first, std::move(entry.second)).second)
      return make_error(EINVAL, "line " + std::to_string(number) + " (\"" + std::string(line) + "\"): id " +
                                    std::to_string(entry.first) + " is listed twice");
  }
  return out;
}

std::string format_owner_changes(const SliceOwners& owners, const std::vector<uint32_t>& ids) {
  std::string out;
  for (uint32_t id : ids) {
    if (auto it = owners.find(id); it != owners.end())
      append_owner_line(out, id, it->second);
    else
      out += "-" + std::to_string(id) + "\n";
  }
  return out;
}

Result<size_t> apply_owner_changes(SliceOwners& owners, std::string_view journal) {
  size_t number = 0;
  for (;;) {
    size_t end = journal.find('\n');
    // A last line without its newline: an append cut short by a crash. That reload's change is
    // not recorded; the one before it stands.
    if (end == std::string_view::npos) return number;
    std::string_view line = journal.substr(0, end);
    journal.remove_prefix(end + 1);
    ++number;
    if (line.starts_with('-')) {
      uint32_t id = 0;
      auto [ptr, ec] = std::from_chars(line.data() + 1, line.data() + line.size(), id);
      if (ec != std::errc() || ptr != line.data() + line.size() || id == 0)
        return make_error(EINVAL, "line " + std::to_string(number) + " (\"" + std::string(line) +
                                      "\"): not \"-id\" with a positive id");
      owners.erase(id);
      continue;
    }
    NETD_ASSIGN_OR_RETURN(auto entry, parse_owner_line(line, number));
    owners[entry.first] = std::move(entry.second);
  }
}

Policy policy_with_owners(const Policy& base, const SliceOwners& owners) {
  Policy out;
  out.netd = base.netd;
  for (const auto& [id, owner] : owners) {
    SliceSpec s;
    s.id = id;
    s.name = owner.name;
    s.raw = owner.raw;  // empty, and capture_all false, when not recorded: nothing is taken away
    s.capture_all = owner.capture_all;
    out.slices.push_back(std::move(s));
  }
  return out;
}

}  // namespace netd::policy
