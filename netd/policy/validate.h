// Policy validation: the constraints of man/netd.policy.5 applied to already-typed values.
//
// loader.cc turns TOML into "drafts" (the model plus where each key was written) and checks what a
// single key can tell on its own (type, integer range, units, prefix syntax). Everything relational —
// between keys of one table, between [netd] and a slice, between slices of different files — is
// checked here, so it holds the same whether the policy came from one file or from many drop-ins.
// Pure functions: no TOML, no syscalls.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lib/core/result.h"
#include "netd/policy/policy.h"

namespace netd::policy {

// Where the keys of one table were written, as "file:line", so every refusal can point at the line.
// A key that is absent has no entry: presence of an entry is also how validation tells an omitted key
// (default applies) from one written with the default value.
struct Origins {
  std::string table;                                          // the [netd] / [[slice]] header
  std::map<std::string, std::string, std::less<>> keys;       // key -> its value's line
  std::map<std::string, std::vector<std::string>, std::less<>> elements;  // list key -> per element

  bool has(std::string_view key) const { return keys.find(key) != keys.end(); }
  // Falls back to the table's own line (e.g. for a missing required key).
  const std::string& of(std::string_view key) const;
  const std::string& of(std::string_view key, size_t index) const;
};

struct DaemonDraft {
  DaemonSettings settings;
  Origins where;
};

struct SliceDraft {
  SliceSpec spec;  // spec.source is where.table
  Origins where;
  // "slice[alice]" once the name is known, "slice" before; prefixes every key in messages.
  std::string subject() const;
};

// The one error shape of the policy module: "file:line: subject: reason", errno EINVAL.
Error policy_error(const std::string& origin, const std::string& subject, const std::string& reason);

// --- Syntax helpers (also meant for ops code that checks names coming from clients) ---

// [a-z][a-z0-9_-]{0,30}: short enough for log lines and nft set element comments, safe in paths.
bool is_valid_slice_name(std::string_view name);
// tun<id>-<n> / tap<id>-<n>: the names netd gives slice vifs.
bool looks_like_vif_name(std::string_view name);
// "80" or "5000-5010": 1 <= first <= last <= 65535.
Result<PortRange> parse_port_range(std::string_view text);
std::string format_port_range(const PortRange& range);
// "32MiB" when exact in KiB/MiB/GiB, else bytes.
std::string format_size_bytes(uint64_t bytes);

// [netd] etcd_endpoints: "http://host:port" or "https://host:port" (host a name, an IPv4
// address or a bracketed IPv6 one; the port required, no path).
struct EtcdEndpoint {
  bool tls = false;
  std::string host;  // as written, brackets of an IPv6 address included
  uint16_t port = 0;
};
Result<EtcdEndpoint> parse_etcd_endpoint(std::string_view url);
// [netd] node_name: a host name ([A-Za-z0-9][A-Za-z0-9._-]{0,63}), as it becomes part of etcd
// keys (<prefix>nodes/<node>, <prefix>hosts/<node>/...): no '/', nothing a shell would split.
bool is_valid_node_name(std::string_view name);

// Raw socket kinds a slice may be granted (the slice key `raw`).
inline constexpr std::string_view kRawKinds[] = {"icmp", "icmpv6", "udp", "tcp", "packet"};

// --- Rules ---

// `host`: max_connections must leave RLIMIT_NOFILE's reserve to netd.
Status check_daemon(const DaemonDraft& daemon, const HostLimits& host = {});
// Rules inside one slice, plus those that depend on [netd] (id within the mark mask).
Status check_slice(const DaemonSettings& daemon, const SliceDraft& slice);
// Uniqueness and non-overlap between slices; the later slice (in load order) is the one blamed.
Status check_across_slices(const std::vector<SliceDraft>& slices);
// The same for slices whose drafts are gone (PolicyLoader keeps only the specs of files it
// does not read again). Without `where` a refusal names no line: the loader then loads every
// file afresh, so the refusal an admin sees always names the lines.
struct SliceRef {
  const SliceSpec* spec = nullptr;
  const Origins* where = nullptr;
};
Status check_across_slices(const std::vector<SliceRef>& slices);

// The steps of validate_policy around the per-slice checks, for PolicyLoader: [netd]'s derived
// defaults and its checks; a slice's derived defaults (after check_slice passed).
Status settle_daemon(DaemonDraft& daemon, const HostLimits& host);
void settle_slice(SliceDraft& slice);

// All of the above, then the model with derived defaults filled in (ceil = rate and ceil_in =
// rate_in when omitted, an omitted uplink_rate_in = uplink_rate — set before the slices are
// checked against it —, an omitted max_connections lowered to what `host` leaves for connections).
Result<Policy> validate_policy(DaemonDraft daemon, std::vector<SliceDraft> slices, const HostLimits& host = {});

}  // namespace netd::policy
