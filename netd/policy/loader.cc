// TOML -> Policy. This file knows TOML (toml++); the rules between values live in validate.cc.
//
// What an omitted key means (the defaults of policy.h, restated here so the file format is readable
// in one place). Where an omitted key could grant something, the default grants nothing:
//
//   [netd]                       default                    note
//   socket                       "/run/netd/netd.sock"
//   state_dir                    "/var/lib/netd"
//   bpffs                        "/sys/fs/bpf/netd"
//   cgroup                       "/sys/fs/cgroup/unified"
//   mark_mask                    0x0fff0000                 ids 1..4095, mark = id << 16
//   raw_flag                     0x10000000
//   table_base                   10000                      table = 10000 + id
//   rule_priority                1000
//   flowlog_group                0x4e00                     monitor's NFLOG group = this + id
//   uplinks                      []                         no shaping / capture anywhere
//   uplink_rate                  "10gbit"                   each uplink's HTB top class
//   uplink_rate_in               = uplink_rate              each uplink's ingress (IFB) HTB top class
//   admins                       [0]                        root only
//   max_connections_per_uid      64                         admins exempt
//   requests_per_second_per_uid  20000                      admins exempt
//   max_connections              4096                       all non-admin uids; lowered to fit RLIMIT_NOFILE
//   idle_timeout                 300 (seconds)              0: never
//   request_timeout              10 (seconds)
//   verify_interval              600 (seconds)              0: never (start and failures only)
//   policy_source                "file"                     "etcd": slices from etcd as well
//   etcd_endpoints               []                         required with policy_source = "etcd"
//   etcd_prefix                  "/netd/"
//   etcd_cacert/_cert/_key       unset                      no TLS client certificate
//   etcd_user/_password_file     unset                      no etcd authentication
//   node_ttl                     10 (seconds)               the node record's lease
//   node_name                    unset                      the host name (uname)
//
//   [[slice]]                    default                    note
//   name, id                     required
//   uids / gids                  []                         at least one member required in total
//   netblock                     []                         no addresses on its vifs
//   route_devices                []                         routes only via its own vifs
//   route_prefixes               []                         no routes at all (each must lie in one)
//   max_routes                   64
//   max_vifs                     4
//   snat                         false
//   raw                          []                         no raw sockets
//   capture_all                  false
//   packet_send_devices          []                         raw frames on its own vifs only
//   rate                         unset                      unshaped (default class)
//   ceil                         = rate
//   rate_in                      unset                      downloads unshaped (ingress default class)
//   ceil_in                      = rate_in
//   bind_ports                   []                         no low ports, no reservations
//   max_sockbuf                  "4MiB"
//   max_priority                 0
#include "netd/policy/loader.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <span>
#include <new>
#include <toml++/toml.h>

#include "lib/core/unique_fd.h"
#include "netd/policy/body_loader.h"
#include "netd/policy/document.h"
#include "netd/policy/validate.h"

namespace netd::policy {

namespace {

// Size cap checked before parsing: a policy of thousands of slices is well under this, and a
// runaway file (or /dev/zero behind a symlink) must not exhaust netd's memory.
constexpr size_t kMaxPolicyFileBytes = 16u << 20;
constexpr uint64_t kMaxUid = 0xFFFFFFFEull;  // (uid_t)-1 means "no change" to the kernel, never a uid
// fs.nr_open's default: no process gets a larger RLIMIT_NOFILE unless the admin raised it.
constexpr uint64_t kMaxConnections = 1u << 20;
// Connection timeouts: below a second a loaded host would cut off well-behaved clients; above a
// day it is not a timeout.
constexpr uint64_t kMinTimeoutMs = 1000;
constexpr uint64_t kMaxTimeoutMs = 86400 * 1000;

constexpr std::string_view kDaemonKeys[] = {
    "socket",     "state_dir",     "bpffs",   "cgroup", "mark_mask",
    "raw_flag",   "table_base",    "rule_priority", "flowlog_group", "uplinks", "uplink_rate",
    "uplink_rate_in",              "admins",
    "max_connections_per_uid",     "requests_per_second_per_uid", "max_connections", "idle_timeout",
    "request_timeout",             "verify_interval",
    "policy_source",  "etcd_endpoints", "etcd_prefix", "etcd_cacert", "etcd_cert", "etcd_key",
    "etcd_user",      "etcd_password_file", "node_ttl", "node_name"};
constexpr std::string_view kSliceKeys[] = {
    "name",       "id",           "uids",           "gids",        "netblock",
    "route_devices", "route_prefixes", "max_routes", "max_vifs",   "snat",
    "raw",        "capture_all",  "packet_send_devices", "rate",   "ceil",
    "rate_in",    "ceil_in",    "bind_ports", "max_sockbuf",  "max_priority"};

const char* type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

// Keys are echoed in messages that end up in logs: keep one error on one printable line.
std::string printable(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

std::string known_keys(std::span<const std::string_view> known) {
  std::string out;
  for (auto k : known) out += (out.empty() ? "" : ", ") + std::string(k);
  return out;
}

// Typed access to one TOML table. Every getter leaves its output untouched when the key is absent
// (the default applies) and records where each present key and list element was written.
class TableReader {
 public:
  TableReader(const toml::table& table, const std::string& file, Origins* where)
      : table_(table), file_(file), where_(where) {
    // A document's root (a slice body) has no header line: it starts at the first.
    where_->table = table.source().begin.line == 0 ? file_ + ":1" : at(table.source());
  }

  void set_subject(std::string subject) { subject_ = std::move(subject); }

  std::string at(const toml::source_region& region) const {
    return file_ + ":" + std::to_string(region.begin.line);
  }

  Error error(std::string_view key, const std::string& reason) const {
    return policy_error(where_->of(key), subject_ + "." + std::string(key), reason);
  }
  Error error(std::string_view key, size_t index, const std::string& reason) const {
    return policy_error(where_->of(key, index), subject_ + "." + std::string(key), reason);
  }

  // A typo ("max_route") must not silently fall back to a default, so unknown keys are refused.
  Status check_keys(std::span<const std::string_view> known) const {
    for (auto&& [key, node] : table_)
      if (std::find(known.begin(), known.end(), key.str()) == known.end())
        return policy_error(at(key.source()), subject_ + "." + printable(key.str()),
                            "unknown key (known: " + known_keys(known) + ")");
    return ok_status();
  }

  Status read_string(std::string_view key, std::string* out) {
    const toml::node* node = find(key);
    return node ? string_value(key, *node, out) : ok_status();
  }

  Status read_bool(std::string_view key, bool* out) {
    const toml::node* node = find(key);
    if (!node) return ok_status();
    if (!node->is_boolean()) return wrong_type(key, *node, "a boolean (true/false)");
    *out = node->as_boolean()->get();
    return ok_status();
  }

  template <typename Int>
  Status read_uint(std::string_view key, uint64_t min, uint64_t max, Int* out, std::string_view why = {}) {
    const toml::node* node = find(key);
    if (!node) return ok_status();
    uint64_t value = 0;
    NETD_TRY(uint_value(key, *node, min, max, why, &value));
    *out = static_cast<Int>(value);
    return ok_status();
  }

  Status read_strings(std::string_view key, std::vector<std::string>* out) {
    const toml::array* array = nullptr;
    NETD_TRY(read_array(key, &array));
    if (!array) return ok_status();
    out->clear();
    for (const toml::node& element : *array) {
      std::string value;
      NETD_TRY(string_value(key, element, &value));
      out->push_back(std::move(value));
    }
    return ok_status();
  }

  // TIME: an integer (seconds), or a string with one of tc's time units ("1.5s", "500ms"), in
  // [min_ms, max_ms]; 0 also when zero_means ("never") is given.
  Status read_time_ms(std::string_view key, uint64_t min_ms, uint64_t max_ms, std::string_view zero_means,
                      uint64_t* out) {
    const toml::node* node = find(key);
    if (!node) return ok_status();
    uint64_t ms = 0;
    if (const toml::value<int64_t>* seconds = node->as_integer()) {
      int64_t v = seconds->get();
      if (v < 0 || static_cast<uint64_t>(v) > max_ms / 1000)
        return error(key, std::to_string(v) + " is outside 0.." + std::to_string(max_ms / 1000) + " (seconds)");
      ms = static_cast<uint64_t>(v) * 1000;
    } else if (node->is_string()) {
      std::string text;
      NETD_TRY(string_value(key, *node, &text));
      // A bare number is microseconds to tc, seconds as an integer here: make the writer say.
      if (!text.empty() && (std::isdigit(static_cast<unsigned char>(text.back())) || text.back() == '.'))
        return error(key, "'" + text + "' has no unit: write the integer " + text + " (seconds) or \"" + text +
                              "s\", \"" + text + "ms\"");
      auto us = parse_time_us(text);
      if (!us.ok()) return error(key, us.error().message);
      if (*us % 1000 != 0) return error(key, "'" + text + "' is not a whole number of milliseconds");
      ms = *us / 1000;
    } else {
      return wrong_type(key, *node, "an integer (seconds) or a string with a unit (\"500ms\")");
    }
    bool zero_ok = ms == 0 && !zero_means.empty();
    if (!zero_ok && (ms < min_ms || ms > max_ms)) {
      std::string range = std::to_string(min_ms / 1000) + "s.." + std::to_string(max_ms / 1000) + "s";
      if (!zero_means.empty()) range = "0 (" + std::string(zero_means) + ") or " + range;
      return error(key, (ms == 0 ? std::string("0") : format_time_us(ms * 1000)) + " is outside " + range);
    }
    *out = ms;
    return ok_status();
  }

  template <typename Int>
  Status read_uints(std::string_view key, uint64_t min, uint64_t max, std::vector<Int>* out,
                    std::string_view why = {}) {
    const toml::array* array = nullptr;
    NETD_TRY(read_array(key, &array));
    if (!array) return ok_status();
    out->clear();
    for (const toml::node& element : *array) {
      uint64_t value = 0;
      NETD_TRY(uint_value(key, element, min, max, why, &value));
      out->push_back(static_cast<Int>(value));
    }
    return ok_status();
  }

 private:
  const toml::node* find(std::string_view key) {
    const toml::node* node = table_.get(key);
    if (node) where_->keys[std::string(key)] = at(node->source());
    return node;
  }

  Status read_array(std::string_view key, const toml::array** out) {
    const toml::node* node = find(key);
    if (!node) return ok_status();
    const toml::array* array = node->as_array();
    if (!array) return wrong_type(key, *node, "an array");
    std::vector<std::string>& origins = where_->elements[std::string(key)];
    origins.clear();
    for (const toml::node& element : *array) origins.push_back(at(element.source()));
    *out = array;
    return ok_status();
  }

  Error wrong_type(std::string_view key, const toml::node& node, const std::string& expected) const {
    return policy_error(at(node.source()), subject_ + "." + std::string(key),
                        "expected " + expected + ", got " + type_name(node.type()));
  }

  Status string_value(std::string_view key, const toml::node& node, std::string* out) const {
    const toml::value<std::string>* value = node.as_string();
    if (!value) return wrong_type(key, node, "a string");
    const std::string& text = value->get();
    // Names end up in C strings and log lines: a NUL would truncate what the kernel sees to
    // something other than what was validated, a newline would forge a log line.
    for (char c : text)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
        return policy_error(at(node.source()), subject_ + "." + std::string(key),
                            "control characters are not allowed in '" + printable(text) + "'");
    *out = text;
    return ok_status();
  }

  Status uint_value(std::string_view key, const toml::node& node, uint64_t min, uint64_t max,
                    std::string_view why, uint64_t* out) const {
    const toml::value<int64_t>* value = node.as_integer();
    if (!value) return wrong_type(key, node, "an integer");
    int64_t v = value->get();
    if (v < 0 || static_cast<uint64_t>(v) < min || static_cast<uint64_t>(v) > max) {
      std::string reason = std::to_string(v) + " is outside " + std::to_string(min) + ".." + std::to_string(max);
      if (!why.empty()) reason += " " + std::string(why);
      return policy_error(at(node.source()), subject_ + "." + std::string(key), reason);
    }
    *out = static_cast<uint64_t>(v);
    return ok_status();
  }

  const toml::table& table_;
  const std::string& file_;
  Origins* where_;
  std::string subject_;
};

// Prefixes in the policy are written out in full: Prefix::parse's "default"/"all"/"any" keywords mean
// IPv4 only, which in a netblock or route_prefixes list would silently leave IPv6 out.
Status read_prefixes(TableReader& reader, std::string_view key, std::vector<Prefix>* out) {
  std::vector<std::string> texts;
  NETD_TRY(reader.read_strings(key, &texts));
  out->clear();
  for (size_t i = 0; i < texts.size(); ++i) {
    if (texts[i] == "default" || texts[i] == "all" || texts[i] == "any")
      return reader.error(key, i, "write '" + texts[i] + "' as 0.0.0.0/0 and/or ::/0");
    auto prefix = Prefix::parse(texts[i]);
    if (!prefix.ok()) return reader.error(key, i, prefix.error().message);
    out->push_back(*prefix);
  }
  return ok_status();
}

// RATE: a string with one of tc's rate units ("100mbit"); `out` untouched when absent.
Status read_rate(TableReader& reader, const Origins& where, std::string_view key, uint64_t* out) {
  std::string text;
  NETD_TRY(reader.read_string(key, &text));
  if (!where.has(key)) return ok_status();
  auto bps = parse_rate_bps(text);
  if (!bps.ok()) return reader.error(key, bps.error().message);
  *out = *bps;
  return ok_status();
}

// The keys of policy_source = "etcd" (what holds between them is validate.cc's).
Status read_fleet_keys(TableReader& r, const Origins& where, DaemonSettings& s) {
  std::string source;
  NETD_TRY(r.read_string("policy_source", &source));
  if (where.has("policy_source")) {
    if (source != "etcd" && source != "file")
      return r.error("policy_source", "'" + source + "' is not a policy source (\"file\" or \"etcd\")");
    s.policy_source = source == "etcd" ? PolicySource::kEtcd : PolicySource::kFile;
  }
  NETD_TRY(r.read_strings("etcd_endpoints", &s.etcd_endpoints));
  for (auto [key, out] : {std::pair<std::string_view, std::string*>{"etcd_prefix", &s.etcd_prefix},
                          {"etcd_cacert", &s.etcd_cacert}, {"etcd_cert", &s.etcd_cert}, {"etcd_key", &s.etcd_key},
                          {"etcd_user", &s.etcd_user}, {"etcd_password_file", &s.etcd_password_file},
                          {"node_name", &s.node_name}})
    NETD_TRY(r.read_string(key, out));
  // The node record's lease: etcd grants leases in whole seconds; below 2 s one missed
  // keep-alive (sent every TTL/3) would drop the node, above an hour a dead node lingers.
  uint64_t ttl_ms = static_cast<uint64_t>(s.node_ttl_s) * 1000;
  NETD_TRY(r.read_time_ms("node_ttl", 2000, 3600 * 1000, {}, &ttl_ms));
  if (ttl_ms % 1000 != 0)
    return r.error("node_ttl", format_time_us(ttl_ms * 1000) + " is not a whole number of seconds (etcd leases are)");
  s.node_ttl_s = static_cast<uint32_t>(ttl_ms / 1000);
  return ok_status();
}

Status read_daemon(const toml::table& table, const std::string& file, DaemonDraft* daemon) {
  TableReader r(table, file, &daemon->where);
  r.set_subject("netd");
  NETD_TRY(r.check_keys(kDaemonKeys));
  DaemonSettings& s = daemon->settings;
  NETD_TRY(r.read_string("socket", &s.socket));
  NETD_TRY(r.read_string("state_dir", &s.state_dir));
  NETD_TRY(r.read_string("bpffs", &s.bpffs));
  NETD_TRY(r.read_string("cgroup", &s.cgroup));
  NETD_TRY(r.read_uint("mark_mask", 0, 0xFFFFFFFF, &s.mark_mask, "(a 32-bit skb->mark mask)"));
  NETD_TRY(r.read_uint("raw_flag", 0, 0xFFFFFFFF, &s.raw_flag, "(a 32-bit skb->mark bit)"));
  NETD_TRY(r.read_uint("table_base", 0, 0xFFFFFFFF, &s.table_base, "(routing tables are 32-bit)"));
  // netd's rules take rule_priority .. a block end before main's rule (32766): 3 priorities at
  // the least, ~12300 for a full tree of 4095 slices (ops/rule_tree.h says how it shrinks).
  NETD_TRY(r.read_uint("rule_priority", 1, 32762, &s.rule_priority,
                       "(0 is the local table's rule; netd's rules need rule_priority..rule_priority+3 at the "
                       "least, before main and default at 32766 and 32767)"));
  NETD_TRY(r.read_uint("flowlog_group", 0, 0xFFFF, &s.flowlog_group, "(NFLOG groups are 16-bit)"));
  NETD_TRY(r.read_strings("uplinks", &s.uplinks));
  NETD_TRY(read_rate(r, daemon->where, "uplink_rate", &s.uplink_rate_bps));
  NETD_TRY(read_rate(r, daemon->where, "uplink_rate_in", &s.uplink_rate_in_bps));
  NETD_TRY(r.read_uints("admins", 0, kMaxUid, &s.admins));
  NETD_TRY(r.read_uint("max_connections_per_uid", 1, 65536, &s.max_connections_per_uid));
  NETD_TRY(r.read_uint("requests_per_second_per_uid", 1, 10000000, &s.requests_per_second_per_uid));
  NETD_TRY(r.read_uint("max_connections", 1, kMaxConnections, &s.max_connections));
  NETD_TRY(r.read_time_ms("idle_timeout", kMinTimeoutMs, kMaxTimeoutMs, "never", &s.idle_timeout_ms));
  NETD_TRY(r.read_time_ms("request_timeout", kMinTimeoutMs, kMaxTimeoutMs, {}, &s.request_timeout_ms));
  NETD_TRY(r.read_time_ms("verify_interval", kMinTimeoutMs, kMaxTimeoutMs, "never", &s.verify_interval_ms));
  return read_fleet_keys(r, daemon->where, s);
}

// `key_name`: the name the slice's place gives it (an etcd key's last part), or empty (a file).
Status read_slice(const toml::table& table, const std::string& file, SliceDraft* slice,
                  std::string_view key_name = {}) {
  TableReader r(table, file, &slice->where);
  SliceSpec& s = slice->spec;
  s.source = slice->where.table;
  r.set_subject("slice");
  // The name first, so every later message says which slice; checked now because it is echoed.
  NETD_TRY(r.read_string("name", &s.name));
  if (slice->where.has("name") && !is_valid_slice_name(s.name))
    return r.error("name", "'" + s.name + "' must match [a-z][a-z0-9_-]{0,30}");
  if (!key_name.empty()) {
    // Two names that could differ would let one key hold another slice than it says.
    if (slice->where.has("name") && s.name != key_name)
      return r.error("name", "'" + s.name + "' is not the name its key gives it ('" + std::string(key_name) +
                                 "'): omit name, or write that one");
    if (!slice->where.has("name")) {
      s.name = std::string(key_name);
      slice->where.keys["name"] = slice->where.table;
    }
  }
  r.set_subject(slice->subject());
  NETD_TRY(r.check_keys(kSliceKeys));

  NETD_TRY(r.read_uint("id", 0, 0xFFFFFFFF, &s.id));  // the mask decides the real range (validate.cc)
  NETD_TRY(r.read_uints("uids", 0, kMaxUid, &s.uids));
  NETD_TRY(r.read_uints("gids", 0, kMaxUid, &s.gids));
  NETD_TRY(read_prefixes(r, "netblock", &s.netblock));

  NETD_TRY(r.read_strings("route_devices", &s.route_devices));
  NETD_TRY(read_prefixes(r, "route_prefixes", &s.route_prefixes));
  NETD_TRY(r.read_uint("max_routes", 0, 100000, &s.max_routes, "(a slice table is not a full routing table)"));

  NETD_TRY(r.read_uint("max_vifs", 0, 1024, &s.max_vifs));
  NETD_TRY(r.read_bool("snat", &s.snat));

  NETD_TRY(r.read_strings("raw", &s.raw));
  NETD_TRY(r.read_bool("capture_all", &s.capture_all));
  NETD_TRY(r.read_strings("packet_send_devices", &s.packet_send_devices));

  for (auto [key, out] : {std::pair<std::string_view, uint64_t*>{"rate", &s.rate_bps}, {"ceil", &s.ceil_bps},
                         {"rate_in", &s.rate_in_bps}, {"ceil_in", &s.ceil_in_bps}})
    NETD_TRY(read_rate(r, slice->where, key, out));

  std::vector<std::string> ports;
  NETD_TRY(r.read_strings("bind_ports", &ports));
  s.bind_ports.clear();
  for (size_t i = 0; i < ports.size(); ++i) {
    auto range = parse_port_range(ports[i]);
    if (!range.ok()) return r.error("bind_ports", i, range.error().message);
    s.bind_ports.push_back(*range);
  }

  std::string text;
  NETD_TRY(r.read_string("max_sockbuf", &text));
  if (slice->where.has("max_sockbuf")) {
    auto bytes = parse_size_bytes(text);
    if (!bytes.ok()) return r.error("max_sockbuf", bytes.error().message);
    s.max_sockbuf = *bytes;
  }
  NETD_TRY(r.read_uint("max_priority", 0, 6, &s.max_priority,
                       "(7 is TC_PRIO_CONTROL, kept for the kernel's own control traffic)"));
  return ok_status();
}

// TOML text into its root table; toml++ reports by exception, the policy module by Result.
Result<toml::table> parse_toml(std::string_view text, const std::string& file) {
  try {
    return toml::parse(text, std::string_view(file));
  } catch (const toml::parse_error& e) {
    return make_error(EINVAL, file + ":" + std::to_string(e.source().begin.line) + ":" +
                                  std::to_string(e.source().begin.column) +
                                  ": TOML syntax error: " + printable(e.description()));
  } catch (const std::bad_alloc&) {
    return make_error(ENOMEM, file + ": out of memory parsing the policy");
  } catch (...) {
    return make_error(EINVAL, file + ": the TOML parser failed");
  }
}

}  // namespace

// A body that is a whole one-slice drop-in ([[slice]] and its keys) is taken too, as an admin
// may publish a drop-in file as it is; any other table is refused, [netd] above all: it never
// comes from there.
Status parse_slice_body(const SliceBody& body, SliceDraft* slice) {
  if (body.text.size() > kMaxPolicyFileBytes)
    return make_error(EFBIG, body.source + ": larger than " + std::to_string(kMaxPolicyFileBytes >> 20) + "MiB");
  NETD_ASSIGN_OR_RETURN(toml::table root, parse_toml(body.text, body.source));
  auto at = [&](const toml::source_region& r) { return body.source + ":" + std::to_string(r.begin.line); };
  const toml::table* table = &root;
  if (const toml::array* one = root.get_as<toml::array>("slice");
      root.size() == 1 && one != nullptr && one->is_array_of_tables() && one->size() == 1)
    table = one->get(0)->as_table();
  for (auto&& [key, node] : *table) {
    if (key.str() == "netd")
      return policy_error(at(key.source()), "netd",
                          "[netd] never comes from etcd: a slice key holds the keys of one [[slice]] table, and "
                          "netd's own settings stay in the local policy file");
    if (node.is_table() || node.is_array_of_tables())
      return policy_error(at(key.source()), printable(key.str()),
                          "a slice key holds the keys of one [[slice]] table (id = 7, uids = [1001], ...), "
                          "not tables");
  }
  return read_slice(*table, body.source, slice, body.name);
}

Status parse_document(std::string_view text, const std::string& file, bool main_file, DaemonDraft* daemon,
                      std::vector<SliceDraft>* slices) {
  NETD_ASSIGN_OR_RETURN(toml::table root, parse_toml(text, file));

  auto at = [&](const toml::source_region& r) { return file + ":" + std::to_string(r.begin.line); };
  const toml::table* netd_table = nullptr;
  const toml::array* slice_array = nullptr;
  for (auto&& [key, node] : root) {
    if (key.str() == "netd") {
      if (!main_file)
        return policy_error(at(node.source()), "netd",
                            "a drop-in may only contain [[slice]] tables; [netd] belongs in the main "
                            "policy file");
      netd_table = node.as_table();
      if (!netd_table)
        return policy_error(at(node.source()), "netd", std::string("expected a table, got ") + type_name(node.type()));
    } else if (key.str() == "slice") {
      slice_array = node.as_array();
      // An empty `slice = []` is harmless; anything else must be tables ([[slice]] or inline).
      if (!slice_array || (!slice_array->empty() && !node.is_array_of_tables()))
        return policy_error(at(node.source()), "slice",
                            std::string("expected an array of tables ([[slice]]), got ") +
                                (slice_array ? "an array of other values" : type_name(node.type())));
    } else {
      return policy_error(at(key.source()), printable(key.str()),
                          "unknown top-level key (a policy has a [netd] table and [[slice]] tables)");
    }
  }

  if (main_file) {
    daemon->where.table = file;
    if (netd_table) NETD_TRY(read_daemon(*netd_table, file, daemon));
  }
  if (slice_array) {
    slices->reserve(slices->size() + slice_array->size());  // thousands of slices: no regrowth copies
    for (const toml::node& node : *slice_array) {
      SliceDraft slice;
      NETD_TRY(read_slice(*node.as_table(), file, &slice));
      slices->push_back(std::move(slice));
    }
  }
  return ok_status();
}

Result<std::string> read_policy_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) return errno_error("reading policy " + path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return errno_error("reading policy " + path);
  if (!S_ISREG(st.st_mode)) return make_error(EINVAL, "reading policy " + path + ": not a regular file");
  if (static_cast<uint64_t>(st.st_size) > kMaxPolicyFileBytes)
    return make_error(EFBIG, "reading policy " + path + ": larger than " +
                                 std::to_string(kMaxPolicyFileBytes >> 20) + "MiB");
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_error("reading policy " + path);
    if (n == 0) break;
    // The file may grow after fstat: the cap holds on what is actually read.
    if (text.size() + static_cast<size_t>(n) > kMaxPolicyFileBytes)
      return make_error(EFBIG, "reading policy " + path + ": larger than " +
                                   std::to_string(kMaxPolicyFileBytes >> 20) + "MiB");
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

namespace {

// Paths of policy.d/*.toml beside `path`, sorted by name (byte order, like the C locale's glob).
Result<std::vector<std::string>> list_drop_ins(const std::string& path) {
  auto slash = path.rfind('/');
  std::string dir = (slash == std::string::npos ? std::string(".") : path.substr(0, slash)) + "/policy.d";
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return names;  // no drop-in directory: nothing to add
    return errno_error("listing drop-ins " + dir);
  }
  for (;;) {
    errno = 0;  // readdir returns NULL both at the end and on error; errno tells which
    const dirent* entry = ::readdir(d);
    if (!entry) break;
    std::string_view name = entry->d_name;
    if (name.empty() || name[0] == '.') continue;  // editors' temp files; the shell glob skips them too
    if (name.size() <= 5 || name.substr(name.size() - 5) != ".toml") continue;
    names.emplace_back(name);
  }
  int saved = errno;
  ::closedir(d);
  if (saved != 0) return errno_error("listing drop-ins " + dir, saved);
  std::sort(names.begin(), names.end());
  for (std::string& name : names) name = dir + "/" + name;
  return names;
}

}  // namespace

HostLimits current_host_limits() {
  HostLimits host;
  rlimit nofile{};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_max != RLIM_INFINITY) host.max_fds = nofile.rlim_max;
  return host;
}

Result<Policy> parse_policy(std::string_view toml_text, const std::string& source_name, const HostLimits& host) {
  DaemonDraft daemon;
  std::vector<SliceDraft> slices;
  NETD_TRY(parse_document(toml_text, source_name, true, &daemon, &slices));
  return validate_policy(std::move(daemon), std::move(slices), host);
}

Result<Policy> parse_policy_with_slices(std::string_view main_text, const std::string& main_source,
                                       std::span<const SliceBody> slices, const HostLimits& host) {
  // One code path with the loader that remembers: a load with nothing remembered parses and
  // checks everything, as load_policy's first load does over a file and its drop-ins.
  SliceBodyLoader loader;
  return loader.load(main_text, main_source, slices, host);
}

Result<Policy> load_policy(const std::string& path, const HostLimits& host) {
  PolicyLoader loader(path);
  return loader.load(host);
}

namespace {

struct StatOfFile {
  PolicyLoader::FileStamp stamp;
  bool symlink = false;
  // Old enough for the stamp to tell a later change: a file written within the last second
  // may be written again within the filesystem's timestamp granularity (a jiffy on some) with
  // the same size, and look unchanged.
  bool settled = false;
};

Result<StatOfFile> stat_file(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return errno_error("reading policy " + path);
  StatOfFile out;
  out.symlink = S_ISLNK(st.st_mode);
  if (out.symlink && ::stat(path.c_str(), &st) != 0) return errno_error("reading policy " + path);
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  out.settled = st.st_mtim.tv_sec + 1 < now.tv_sec && st.st_ctim.tv_sec + 1 < now.tv_sec;
  out.stamp = {st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_ctim};
  return out;
}

bool same_stamp(const PolicyLoader::FileStamp& a, const PolicyLoader::FileStamp& b) {
  auto same_time = [](const timespec& x, const timespec& y) { return x.tv_sec == y.tv_sec && x.tv_nsec == y.tv_nsec; };
  return a.dev == b.dev && a.ino == b.ino && a.size == b.size && same_time(a.mtime, b.mtime) &&
         same_time(a.ctime, b.ctime);
}

std::string drop_in_dir(const std::string& path) {
  auto slash = path.rfind('/');
  return (slash == std::string::npos ? std::string(".") : path.substr(0, slash)) + "/policy.d";
}

// What the shell glob policy.d/*.toml would match.
bool is_drop_in_name(std::string_view name) {
  return !name.empty() && name[0] != '.' && name.size() > 5 && name.substr(name.size() - 5) == ".toml";
}

}  // namespace

Result<Policy> PolicyLoader::load(const HostLimits& host) {
  // What changed since the last successful load, if a watch knows. A watch that lost track
  // (or none yet) is replaced before any file is read, so nothing written from now on goes
  // unseen; this load then stats every remembered file.
  bool known = false;
  if (watch_) {
    auto taken = watch_->take();
    if (taken.ok() && !taken->everything) {
      pending_.main_file = pending_.main_file || taken->main_file;
      pending_.drop_ins.merge(taken->drop_ins);
      known = true;
    } else {
      watch_.reset();
    }
  }
  if (!watch_) {
    pending_ = {};
    if (auto opened = PolicyWatch::open(path_); opened.ok()) watch_.emplace(std::move(opened).value());
  }
  last_load_watched_ = known;
  bool remembered_refusal = false;
  auto policy = load_once(host, known ? &pending_ : nullptr, &remembered_refusal);
  if (!policy.ok() && remembered_refusal) {
    // The refusal is right, but files it involves were not read: read them all, so it names the lines.
    main_.reset();
    drop_ins_.clear();
    claims_.clear();
    policy = load_once(host, nullptr, &remembered_refusal);
  }
  if (policy.ok()) pending_ = {};  // a refused load keeps them: its files were not remembered
  return policy;
}

Result<Policy> PolicyLoader::load_once(const HostLimits& host, const PolicyWatch::Changes* changed,
                                       bool* remembered_refusal) {
  last_files_read_ = 0;
  const std::string dir = drop_in_dir(path_);
  // The drop-ins' names, in load order: the last load's list less the names the events say
  // went plus those they say arrived (the list itself changes once the load succeeds: no copy
  // of thousands of names), or a fresh listing.
  std::optional<std::set<std::string>> listed;
  std::set<std::string> arrived, gone;  // gone: in the last list (or memory), not there now
  if (changed != nullptr) {
    for (const std::string& name : changed->drop_ins) {
      if (!is_drop_in_name(name)) continue;
      struct stat st {};
      const bool exists = ::lstat((dir + "/" + name).c_str(), &st) == 0;
      if (!exists && errno != ENOENT) return errno_error("reading policy " + dir + "/" + name);
      if (exists == (drop_in_names_.count(name) != 0)) continue;
      (exists ? arrived : gone).insert(name);
    }
  } else {
    NETD_ASSIGN_OR_RETURN(std::vector<std::string> paths, list_drop_ins(path_));
    listed.emplace();
    for (const std::string& p : paths) listed->insert(p.substr(dir.size() + 1));
    for (const auto& [name, memory] : drop_ins_)
      if (listed->count(name) == 0) gone.insert(name);
  }
  // Calls `each` with every name in order.
  auto for_each_name = [&](auto each) {
    if (listed) {
      for (const std::string& name : *listed) each(name);
      return;
    }
    auto next_gone = gone.begin();
    auto next_arrived = arrived.begin();
    for (const std::string& name : drop_in_names_) {
      for (; next_arrived != arrived.end() && *next_arrived < name; ++next_arrived) each(*next_arrived);
      while (next_gone != gone.end() && *next_gone < name) ++next_gone;
      if (next_gone != gone.end() && *next_gone == name) continue;
      each(name);
    }
    for (; next_arrived != arrived.end(); ++next_arrived) each(*next_arrived);
  };
  const size_t name_count = listed ? listed->size() : drop_in_names_.size() + arrived.size() - gone.size();

  // Each file in load order (the main file first), read or taken from memory; the drafts of
  // those read are kept here until the checks pass.
  struct ReadFile {
    StatOfFile stat;                 // its stat before the reading
    std::vector<SliceDraft> drafts;
    std::vector<std::shared_ptr<const SliceSpec>> specs;  // the drafts' specs, once checked
  };
  // Small: a reload at thousands of drop-ins makes one per file and reads few of them.
  struct Loaded {
    const std::string* name = nullptr;   // a drop-in's name; null for the main file
    Remembered* memory = nullptr;        // taken from memory
    const Remembered* was = nullptr;     // what was remembered of it, taken or read again
    std::unique_ptr<ReadFile> read;      // read (every file not taken from memory)
    std::string path(const std::string& main, const std::string& dir) const { return name ? dir + "/" + *name : main; }
  };
  std::vector<Loaded> loaded(1 + name_count);
  loaded[0].memory = main_ ? &*main_ : nullptr;
  loaded[0].was = loaded[0].memory;
  {
    // Both sorted by name: one pass pairs each drop-in with what is remembered of it.
    auto memory = drop_ins_.begin();
    size_t i = 1;
    for_each_name([&](const std::string& name) {
      Loaded& file = loaded[i++];
      file.name = &name;
      while (memory != drop_ins_.end() && memory->first < name) ++memory;
      if (memory != drop_ins_.end() && memory->first == name) file.was = file.memory = &memory->second;
    });
  }
  auto read = [&](Loaded& file, DaemonDraft* daemon) -> Status {
    const std::string path = file.path(path_, dir);
    file.read = std::make_unique<ReadFile>();
    NETD_ASSIGN_OR_RETURN(file.read->stat, stat_file(path));
    NETD_ASSIGN_OR_RETURN(std::string text, read_policy_file(path));
    ++last_files_read_;
    file.memory = nullptr;
    return parse_document(text, path, file.name == nullptr, daemon, &file.read->drafts);
  };
  DaemonDraft written;  // the main file's [netd] as read (remembered before defaults)
  DaemonDraft unused;   // a drop-in's: parse_document refuses [netd] there
  DaemonDraft daemon;
  for (Loaded& file : loaded) {
    const bool main_file = file.name == nullptr;
    if (file.memory != nullptr) {
      bool unchanged = false;
      if (changed != nullptr && file.memory->events_tell) {
        unchanged = main_file ? !changed->main_file : changed->drop_ins.count(*file.name) == 0;
      } else {
        // A stamp younger than a second cannot tell a same-size rewrite within the timestamp
        // granularity (an entry remembered under a watch that has since been replaced).
        NETD_ASSIGN_OR_RETURN(StatOfFile now, stat_file(file.path(path_, dir)));
        unchanged = same_stamp(file.memory->stamp, now.stamp) && now.settled;
      }
      if (unchanged) {
        if (main_file) daemon = main_daemon_;
        continue;
      }
    }
    NETD_TRY(read(file, main_file ? &written : &unused));
    if (main_file) daemon = written;
  }
  NETD_TRY(settle_daemon(daemon, host));

  // Slices checked against other [netd] settings (the host's fd limit moved) are checked
  // again: read again, as the checks need where each key was written.
  const bool memory_checked = memory_checked_with_ == daemon.settings;
  for (Loaded& file : loaded) {
    if (file.memory == nullptr || memory_checked) continue;
    NETD_TRY(read(file, file.name == nullptr ? &written : &unused));
  }
  std::vector<SliceRef> refs;
  bool any_remembered = false;
  for (Loaded& file : loaded) {
    if (file.memory != nullptr) {
      any_remembered = any_remembered || !file.memory->slices.empty();
      for (const auto& spec : file.memory->slices) refs.push_back({spec.get(), nullptr});
      continue;
    }
    for (SliceDraft& draft : file.read->drafts) {
      NETD_TRY(check_slice(daemon.settings, draft));
      settle_slice(draft);
      refs.push_back({&draft.spec, &draft.where});
    }
  }
  // What memory loses (the slices of files read again or gone) and gains (those read).
  std::vector<const SliceSpec*> dropped, fresh;
  for (const Loaded& file : loaded) {
    if (file.memory != nullptr) continue;
    if (file.was != nullptr)
      for (const auto& spec : file.was->slices) dropped.push_back(spec.get());
    for (const SliceDraft& draft : file.read->drafts) fresh.push_back(&draft.spec);
  }
  for (const std::string& name : gone)
    if (auto it = drop_ins_.find(name); it != drop_ins_.end())
      for (const auto& spec : it->second.slices) dropped.push_back(spec.get());
  // The slices read are checked against the index of the remembered ones; the check over
  // every slice runs when nothing is remembered, or to say what the index found wrong.
  if (!any_remembered || claims_.conflicts(dropped, fresh)) {
    if (Status across = check_across_slices(refs); !across.ok()) {
      *remembered_refusal = any_remembered;
      return std::move(across).error();
    }
  }

  // The policy shares the specs with what is remembered: a slice read before costs a pointer.
  Policy policy;
  policy.netd = daemon.settings;
  policy.slices.reserve(refs.size());
  for (Loaded& file : loaded) {
    if (file.memory != nullptr) {
      for (const auto& spec : file.memory->slices) policy.slices.push_back(spec);
      continue;
    }
    ReadFile& got = *file.read;
    got.specs.reserve(got.drafts.size());
    for (SliceDraft& draft : got.drafts) {
      got.specs.push_back(std::make_shared<SliceSpec>(std::move(draft.spec)));
      policy.slices.push_back(got.specs.back());
    }
  }

  // Remember what was read: a regular file the watch (opened before the reading) covers, or a
  // file whose stamp can tell a later change.
  auto remember = [&](Loaded& file) -> std::optional<Remembered> {
    ReadFile& got = *file.read;
    const bool events_tell = watch_.has_value() && !got.stat.symlink;
    if (!events_tell && !got.stat.settled) return std::nullopt;
    return Remembered{got.stat.stamp, events_tell, std::move(got.specs)};
  };
  auto claim = [&](const Remembered& memory) {
    for (const auto& spec : memory.slices) claims_.add(spec.get());
  };
  for (const SliceSpec* spec : dropped) claims_.remove(spec);  // before memory lets them go
  if (loaded[0].memory == nullptr) {
    main_ = remember(loaded[0]);
    main_daemon_ = std::move(written);
    if (main_) claim(*main_);
  }
  memory_checked_with_ = daemon.settings;
  for (const std::string& name : gone) drop_ins_.erase(name);
  for (size_t i = 1; i < loaded.size(); ++i) {
    Loaded& file = loaded[i];
    if (file.memory != nullptr) continue;
    if (auto r = remember(file))
      claim(drop_ins_.insert_or_assign(*file.name, std::move(*r)).first->second);
    else
      drop_ins_.erase(*file.name);
  }
  // Last: the names of `loaded` point into these.
  if (listed) {
    drop_in_names_ = std::move(*listed);
  } else {
    for (const std::string& name : gone) drop_in_names_.erase(name);
    drop_in_names_.merge(arrived);
  }
  return policy;
}

std::string default_policy_text() {
  return R"(# netd built-in policy: the README demo. Two slices on a demo uplink that lives inside the
# demo's own network namespace, so nothing here touches the host's real devices.
[netd]
socket        = "/run/netd/netd.sock"
state_dir     = "/var/lib/netd"
bpffs         = "/sys/fs/bpf/netd"
cgroup        = "/sys/fs/cgroup/unified"
mark_mask     = 0x0fff0000
raw_flag      = 0x10000000
table_base    = 10000
rule_priority = 1000
uplinks       = ["uplink0"]
admins        = [0]

[[slice]]
name           = "alice"
id             = 7
uids           = [1001]
netblock       = ["10.7.0.0/24", "fd00:7::/64"]
route_devices  = ["uplink0", "uplink1"]
route_prefixes = ["0.0.0.0/0", "::/0"]
max_routes     = 64
max_vifs       = 4
raw            = ["icmp", "icmpv6", "udp", "tcp", "packet"]
rate           = "50mbit"
ceil           = "100mbit"
bind_ports     = ["80", "443", "5000-5010"]
max_sockbuf    = "32MiB"
max_priority   = 6

[[slice]]
name           = "bob"
id             = 8
uids           = [1002]
netblock       = ["10.8.0.0/24", "fd00:8::/64"]
route_devices  = ["uplink0", "uplink1"]
route_prefixes = ["0.0.0.0/0", "::/0"]
max_routes     = 64
max_vifs       = 4
raw            = ["icmp", "udp"]
rate           = "20mbit"
ceil           = "50mbit"
bind_ports     = ["81"]
max_sockbuf    = "8MiB"
max_priority   = 4
)";
}

Result<Policy> default_policy(const HostLimits& host) {
  return parse_policy(default_policy_text(), "<built-in policy>", host);
}

}  // namespace netd::policy
