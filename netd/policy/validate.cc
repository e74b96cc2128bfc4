#include "netd/policy/validate.h"

#include <sys/un.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "lib/core/hex.h"
#include "lib/core/net_types.h"
#include "netd/policy/shape_plan.h"

namespace netd::policy {

namespace {

constexpr uint64_t kGiB = 1ull << 30;
// SO_RCVBUFFORCE / SO_SNDBUFFORCE take an int; 2 GiB is the last round value near INT_MAX, and the
// kernel clamps what it is given to INT_MAX / 2 anyway (then doubles it), so more means nothing.
constexpr uint64_t kMaxSockbuf = 2 * kGiB;
// Kernel interface names: IFNAMSIZ (16) including the terminating NUL.
// Routing tables 253..255 are default/main/local, 252 compat, 0 unspec; 0xFFFFFFFF is RT_TABLE_MAX.
constexpr uint64_t kMinTableBase = 256;
constexpr uint64_t kMaxTable = 0xFFFFFFFEull;
// NFLOG groups are 16-bit (NFULA_CFG_CMD / nft's `log group`).
constexpr uint64_t kMaxNflogGroup = 0xFFFF;

std::string key_subject(const std::string& subject, std::string_view key) {
  return subject + "." + std::string(key);
}

size_t decimal_digits(uint64_t v) {
  size_t n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

// A device list (uplinks, route_devices, packet_send_devices): valid kernel names, no vif names,
// no repeats. Vif names are refused because vifs are created per slice at run time and always allowed
// for their owner: naming one in the policy would either grant it to another slice or be redundant.
Status check_device_list(const std::vector<std::string>& devices, const Origins& where,
                         const std::string& subject, std::string_view key) {
  for (size_t i = 0; i < devices.size(); ++i) {
    const std::string& dev = devices[i];
    auto valid = check_ifname(dev);
    if (!valid.ok())
      return policy_error(where.of(key, i), key_subject(subject, key), valid.error().message);
    if (looks_like_vif_name(dev))
      return policy_error(where.of(key, i), key_subject(subject, key),
                          "'" + dev + "' is a slice vif name (tun<id>-<n>/tap<id>-<n>): vifs belong to "
                          "the slice that created them and are always allowed for their owner, so they "
                          "cannot also be named here");
    for (size_t j = 0; j < i; ++j)
      if (devices[j] == dev)
        return policy_error(where.of(key, i), key_subject(subject, key),
                            "'" + dev + "' is listed twice (first at " + where.of(key, j) + ")");
  }
  return ok_status();
}

// Any other list of strings or values with operator==: refuse repeats, naming both lines.
template <typename T, typename Format>
Status check_no_repeats(const std::vector<T>& values, const Origins& where, const std::string& subject,
                        std::string_view key, Format format) {
  for (size_t i = 0; i < values.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (values[j] == values[i])
        return policy_error(where.of(key, i), key_subject(subject, key),
                            format(values[i]) + " is listed twice (first at " + where.of(key, j) + ")");
  return ok_status();
}

Status check_absolute_path(const std::string& path, const Origins& where, std::string_view key) {
  if (path.empty() || path[0] != '/')
    return policy_error(where.of(key), key_subject("netd", key),
                        "'" + path + "' must be an absolute path (netd does not depend on its cwd)");
  return ok_status();
}

// Owner of a uid/gid/port seen so far: slice index and element index, for "already in slice X" messages.
struct Owner {
  size_t slice;
  size_t element;
};

// Where a slice was written, or nothing known (then messages name no line; see SliceRef).
const Origins& origins(const SliceRef& slice) {
  static const Origins unknown;
  return slice.where != nullptr ? *slice.where : unknown;
}
std::string subject(const SliceRef& slice) {
  return slice.spec->name.empty() ? "slice" : "slice[" + slice.spec->name + "]";
}

// uids or gids: each id belongs to at most one slice and appears once in it, because membership
// decides which slice mark every socket of that user carries — it cannot carry two.
Status check_unique_ids(const std::vector<SliceRef>& slices, bool gids) {
  std::unordered_map<uint32_t, Owner> owners;
  const char* key = gids ? "gids" : "uids";
  const char* what = gids ? "gid" : "uid";
  for (size_t s = 0; s < slices.size(); ++s) {
    const SliceRef& slice = slices[s];
    std::vector<uint32_t> ids(gids ? slice.spec->gids.begin() : slice.spec->uids.begin(),
                              gids ? slice.spec->gids.end() : slice.spec->uids.end());
    for (size_t e = 0; e < ids.size(); ++e) {
      auto [it, inserted] = owners.emplace(ids[e], Owner{s, e});
      if (inserted) continue;
      const SliceRef& first = slices[it->second.slice];
      std::string reason = std::string(what) + " " + std::to_string(ids[e]);
      if (it->second.slice == s)
        reason += " is listed twice (first at " + origins(slice).of(key, it->second.element) + ")";
      else
        reason += " is already a member of slice " + first.spec->name + " (" +
                  origins(first).of(key, it->second.element) + "): a " + what +
                  " belongs to at most one slice";
      return policy_error(origins(slice).of(key, e), key_subject(subject(slice), key), reason);
    }
  }
  return ok_status();
}

// Netblocks never overlap, within a slice or between slices: an address on a vif must identify one
// slice, or the ingress marking and the source-address fence could not tell whose packet it is.
// Sorted by (family, address, length), any overlapping pair implies an overlapping neighbour pair
// (the element right after a prefix that contains a later one lies inside it), so one pass suffices.
Status check_netblocks(const std::vector<SliceRef>& slices) {
  struct Entry {
    const Prefix* prefix;
    Owner owner;
  };
  std::vector<Entry> entries;
  for (size_t s = 0; s < slices.size(); ++s)
    for (size_t e = 0; e < slices[s].spec->netblock.size(); ++e)
      entries.push_back({&slices[s].spec->netblock[e], {s, e}});
  auto key = [](const Entry& x) {
    const IpAddress& a = x.prefix->address();
    return std::make_tuple(a.family(), std::string(reinterpret_cast<const char*>(a.bytes()), a.size()),
                           x.prefix->length());
  };
  std::sort(entries.begin(), entries.end(), [&](const Entry& a, const Entry& b) { return key(a) < key(b); });
  for (size_t i = 1; i < entries.size(); ++i) {
    if (!entries[i - 1].prefix->overlaps(*entries[i].prefix)) continue;
    // Blame the one written later, so a new drop-in is named rather than the slice it collides with.
    Entry earlier = entries[i - 1], later = entries[i];
    if (std::tie(later.owner.slice, later.owner.element) < std::tie(earlier.owner.slice, earlier.owner.element))
      std::swap(earlier, later);
    const SliceRef& blamed = slices[later.owner.slice];
    const SliceRef& other = slices[earlier.owner.slice];
    std::string reason = later.prefix->to_string() + " overlaps " + earlier.prefix->to_string();
    if (earlier.owner.slice == later.owner.slice)
      reason += " of the same slice (" + origins(other).of("netblock", earlier.owner.element) + ")";
    else
      reason += " of slice " + other.spec->name + " (" + origins(other).of("netblock", earlier.owner.element) +
                "): netblocks of slices never overlap, an address must identify one slice";
    return policy_error(origins(blamed).of("netblock", later.owner.element),
                        key_subject(subject(blamed), "netblock"), reason);
  }
  return ok_status();
}

// A port in bind_ports is its slice's alone, privileged or not (no other uid is to bind it),
// so two slices cannot both hold it, and one slice listing it twice is a mistake worth pointing out.
Status check_bind_ports(const std::vector<SliceRef>& slices) {
  std::vector<int32_t> owner_slice(65536, -1);
  std::vector<uint32_t> owner_element(65536, 0);
  for (size_t s = 0; s < slices.size(); ++s) {
    const SliceRef& slice = slices[s];
    for (size_t e = 0; e < slice.spec->bind_ports.size(); ++e) {
      const PortRange& range = slice.spec->bind_ports[e];
      for (uint32_t port = range.first; port <= range.last; ++port) {
        if (owner_slice[port] < 0) {
          owner_slice[port] = static_cast<int32_t>(s);
          owner_element[port] = static_cast<uint32_t>(e);
          continue;
        }
        const SliceRef& other = slices[static_cast<size_t>(owner_slice[port])];
        std::string reason = "port " + std::to_string(port) + " (in " + format_port_range(range) + ")";
        if (&other == &slice)
          reason += " is already listed at " + origins(other).of("bind_ports", owner_element[port]);
        else
          reason += " is already reserved for slice " + other.spec->name + " (" +
                    origins(other).of("bind_ports", owner_element[port]) +
                    "): a bind port belongs to one slice";
        return policy_error(origins(slice).of("bind_ports", e), key_subject(subject(slice), "bind_ports"),
                            reason);
      }
    }
  }
  return ok_status();
}

}  // namespace

const std::string& Origins::of(std::string_view key) const {
  auto it = keys.find(key);
  return it == keys.end() ? table : it->second;
}

const std::string& Origins::of(std::string_view key, size_t index) const {
  auto it = elements.find(key);
  if (it == elements.end() || index >= it->second.size()) return of(key);
  return it->second[index];
}

std::string SliceDraft::subject() const { return spec.name.empty() ? "slice" : "slice[" + spec.name + "]"; }

Error policy_error(const std::string& origin, const std::string& subject, const std::string& reason) {
  return make_error(EINVAL, origin + ": " + subject + ": " + reason);
}

bool is_valid_slice_name(std::string_view name) {
  if (name.empty() || name.size() > 31 || name[0] < 'a' || name[0] > 'z') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

bool looks_like_vif_name(std::string_view name) {
  if (name.size() < 6 || !(name.substr(0, 3) == "tun" || name.substr(0, 3) == "tap")) return false;
  name.remove_prefix(3);
  auto digits = [](std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  auto dash = name.find('-');
  return dash != std::string_view::npos && digits(name.substr(0, dash)) && digits(name.substr(dash + 1));
}

Result<PortRange> parse_port_range(std::string_view text) {
  auto fail = [&] {
    return make_error(EINVAL, "'" + std::string(text) + "' is not a port or port range (\"80\", \"5000-5010\")");
  };
  auto parse_port = [](std::string_view s) -> int64_t {
    // Digits only: parse_uint would also take "0x50", which nobody means in a port list.
    if (s.empty() || s.size() > 5 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return -1;
    return std::stol(std::string(s));
  };
  auto dash = text.find('-');
  int64_t first = parse_port(text.substr(0, dash));
  int64_t last = dash == std::string_view::npos ? first : parse_port(text.substr(dash + 1));
  if (first < 0 || last < 0) return fail();
  if (first < 1 || last > 65535)
    return make_error(EINVAL, "'" + std::string(text) + "': ports are 1..65535");
  if (first > last)
    return make_error(EINVAL, "'" + std::string(text) + "': the range is reversed (first > last)");
  return PortRange{static_cast<uint16_t>(first), static_cast<uint16_t>(last)};
}

std::string format_port_range(const PortRange& range) {
  if (range.first == range.last) return std::to_string(range.first);
  return std::to_string(range.first) + "-" + std::to_string(range.last);
}

std::string format_size_bytes(uint64_t bytes) {
  if (bytes != 0 && bytes % kGiB == 0) return std::to_string(bytes / kGiB) + "GiB";
  if (bytes != 0 && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + "MiB";
  if (bytes != 0 && bytes % 1024 == 0) return std::to_string(bytes >> 10) + "KiB";
  return std::to_string(bytes);
}

Result<EtcdEndpoint> parse_etcd_endpoint(std::string_view url) {
  const std::string text(url);
  EtcdEndpoint out;
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    out.tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return make_error(EINVAL, "'" + text + "' is not an etcd endpoint (\"http://host:port\" or \"https://host:port\")");
  }
  if (rest.find('/') != std::string_view::npos)
    return make_error(EINVAL, "'" + text + "': an endpoint has no path (the keys are under etcd_prefix)");
  const size_t colon = rest.rfind(':');
  const size_t bracket = rest.rfind(']');
  if (colon == std::string_view::npos || (bracket != std::string_view::npos && colon < bracket))
    return make_error(EINVAL, "'" + text + "' has no port (etcd's client port, 2379 by default, is written out)");
  std::string_view host = rest.substr(0, colon), port = rest.substr(colon + 1);
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), digit) ||
      std::stoul(std::string(port)) < 1 || std::stoul(std::string(port)) > 65535)
    return make_error(EINVAL, "'" + text + "': the port must be 1..65535");
  if (host.starts_with("[")) {
    if (!host.ends_with("]") || !IpAddress::parse(host.substr(1, host.size() - 2)).ok())
      return make_error(EINVAL, "'" + text + "': '" + std::string(host) + "' is not a bracketed IPv6 address");
  } else if (host.empty() || !std::all_of(host.begin(), host.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
             })) {
    return make_error(EINVAL, "'" + text + "': '" + std::string(host) + "' is not a host name or address");
  }
  out.host = std::string(host);
  out.port = static_cast<uint16_t>(std::stoul(std::string(port)));
  return out;
}

bool is_valid_node_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || !std::isalnum(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

namespace {

// The [netd] keys of policy_source = "etcd". They are refused rather than ignored where they
// cannot work together, since netd would otherwise find out only when it first talks to etcd;
// and checked also while unused (beside policy_source = "file"), so that switching to etcd does
// not first meet their mistakes.
Status check_fleet(const DaemonSettings& s, const Origins& where) {
  auto fail = [&](std::string_view key, const std::string& reason) {
    return policy_error(where.of(key), key_subject("netd", key), reason);
  };
  constexpr std::string_view kFleetKeys[] = {"etcd_endpoints", "etcd_prefix", "etcd_cacert", "etcd_cert", "etcd_key",
                                             "etcd_user", "etcd_password_file", "node_ttl", "node_name"};
  // Written without policy_source, they look like a forgotten policy_source = "etcd" (netd
  // would then serve the local slices only); written beside policy_source = "file" they are
  // kept unused on purpose, e.g. to fall back to the file while etcd is being repaired.
  if (!where.has("policy_source"))
    for (std::string_view key : kFleetKeys)
      if (where.has(key))
        return fail(key, std::string(key) + " is set but policy_source is not: write policy_source = \"etcd\" to "
                         "take the slices from etcd, or policy_source = \"file\" to keep the etcd keys unused");
  if (s.policy_source == PolicySource::kEtcd && s.etcd_endpoints.empty())
    return fail(where.has("etcd_endpoints") ? "etcd_endpoints" : "policy_source",
                "policy_source = \"etcd\" needs etcd_endpoints (\"http://host:2379\", ...)");
  std::optional<bool> tls;  // of the endpoints, when there are some
  for (size_t i = 0; i < s.etcd_endpoints.size(); ++i) {
    auto endpoint = parse_etcd_endpoint(s.etcd_endpoints[i]);
    if (!endpoint.ok())
      return policy_error(where.of("etcd_endpoints", i), "netd.etcd_endpoints", endpoint.error().message);
    if (tls && *tls != endpoint->tls)
      return policy_error(where.of("etcd_endpoints", i), "netd.etcd_endpoints",
                          "'" + s.etcd_endpoints[i] + "' mixes http and https with " + where.of("etcd_endpoints", 0) +
                              ": one TLS setting applies to every endpoint");
    tls = endpoint->tls;
  }
  NETD_TRY(check_no_repeats(s.etcd_endpoints, where, "netd", "etcd_endpoints",
                            [](const std::string& e) { return "'" + e + "'"; }));
  if (s.etcd_prefix.empty() || s.etcd_prefix.front() != '/' || s.etcd_prefix.back() != '/')
    return fail("etcd_prefix", "'" + s.etcd_prefix + "' must start and end with '/' (\"/netd/\"), so that "
                               "<prefix>slices/ is no other prefix's key");
  for (std::string_view key : {"etcd_cacert", "etcd_cert", "etcd_key", "etcd_password_file"}) {
    const std::string& path = key == "etcd_cacert" ? s.etcd_cacert
                              : key == "etcd_cert" ? s.etcd_cert
                              : key == "etcd_key"  ? s.etcd_key
                                                   : s.etcd_password_file;
    if (!where.has(key)) continue;
    NETD_TRY(check_absolute_path(path, where, key));
    if (key != "etcd_password_file" && tls && !*tls)
      return fail(key, std::string(key) + " is a TLS setting, but the endpoints are http:// (" +
                           where.of("etcd_endpoints", 0) + "): write https://");
  }
  if (where.has("etcd_cert") != where.has("etcd_key"))
    return fail(where.has("etcd_cert") ? "etcd_cert" : "etcd_key",
                "etcd_cert and etcd_key go together (a client certificate and its private key)");
  if (where.has("etcd_user") != where.has("etcd_password_file"))
    return fail(where.has("etcd_user") ? "etcd_user" : "etcd_password_file",
                "etcd_user and etcd_password_file go together (the password is read from the file, never "
                "written in the policy)");
  if (where.has("etcd_user") && s.etcd_user.empty()) return fail("etcd_user", "must not be empty");
  if (where.has("node_name") && !is_valid_node_name(s.node_name))
    return fail("node_name", "'" + s.node_name + "' must be a host name ([A-Za-z0-9][A-Za-z0-9._-]{0,63}): it "
                             "becomes part of etcd keys");
  return ok_status();
}

// Connections netd can hold on this host: its fd limit minus what it keeps for itself
// (nullopt: the limit is unknown).
std::optional<uint64_t> connection_fds(const HostLimits& host) {
  if (host.max_fds == 0) return std::nullopt;
  return host.max_fds > HostLimits::kReservedFds ? host.max_fds - HostLimits::kReservedFds : 0;
}

Status check_connections(const DaemonSettings& s, const Origins& where, const HostLimits& host) {
  auto room = connection_fds(host);
  if (!room) return ok_status();
  std::string limit = "netd's fd limit (RLIMIT_NOFILE) is " + std::to_string(host.max_fds) + ", of which " +
                      std::to_string(HostLimits::kReservedFds) + " are kept for its own use";
  if (*room == 0)
    return policy_error(where.of("max_connections"), "netd.max_connections",
                        limit + ": raise it (LimitNOFILE= in netd.service) to serve any connection");
  if (where.has("max_connections") && s.max_connections > *room)
    return policy_error(where.of("max_connections"), "netd.max_connections",
                        std::to_string(s.max_connections) + " is more than netd can hold open: " + limit +
                            " (at most " + std::to_string(*room) + ")");
  return ok_status();
}

// One direction's shaping keys of a slice, for check_shaping.
struct ShapeKeys {
  const char* rate;
  const char* ceil;
  uint64_t SliceSpec::*rate_bps;
  uint64_t SliceSpec::*ceil_bps;
  std::string uplink;   // "[netd] uplink_rate 1gbit", as messages name it
  uint64_t uplink_bps;
  const char* verb;      // "send" / "receive"
  const char* unshaped;  // what omitting the rate leaves unshaped

  static ShapeKeys egress(const DaemonSettings& d) {
    return {"rate", "ceil", &SliceSpec::rate_bps, &SliceSpec::ceil_bps,
            "[netd] uplink_rate " + format_rate_bps(d.uplink_rate_bps), d.uplink_rate_bps, "send", "the slice"};
  }
  static ShapeKeys ingress(const DaemonSettings& d) {
    // An omitted uplink_rate_in is uplink_rate by then: say so, or the limit seems to come from nowhere.
    std::string uplink = "[netd] uplink_rate_in " + format_rate_bps(d.uplink_rate_in_bps);
    if (d.uplink_rate_in_bps == d.uplink_rate_bps) uplink += " (uplink_rate_in = uplink_rate when omitted)";
    return {"rate_in", "ceil_in", &SliceSpec::rate_in_bps, &SliceSpec::ceil_in_bps, uplink, d.uplink_rate_in_bps,
            "receive", "the slice's downloads"};
  }
};

// rate/ceil or rate_in/ceil_in: the same rules in both directions, against that direction's uplink rate.
Status check_shaping(const SliceDraft& slice, const ShapeKeys& k) {
  const SliceSpec& s = slice.spec;
  const Origins& where = slice.where;
  auto fail = [&](std::string_view key, const std::string& reason) {
    return policy_error(where.of(key), key_subject(slice.subject(), key), reason);
  };
  const uint64_t rate = s.*k.rate_bps, ceil = s.*k.ceil_bps;
  const std::string rate_key = k.rate, ceil_key = k.ceil;
  const bool has_rate = where.has(rate_key), has_ceil = where.has(ceil_key);
  if (has_ceil && !has_rate)
    return fail(ceil_key, ceil_key + " without " + rate_key + ": set " + rate_key + " (the guaranteed share) too");
  if (!has_rate) return ok_status();
  if (rate == 0)
    return fail(rate_key, "must be above 0 (omit " + rate_key + " to leave " + k.unshaped + " unshaped)");
  if (has_ceil && rate > ceil)
    return fail(rate_key, format_rate_bps(rate) + " is above " + ceil_key + " " + format_rate_bps(ceil) + " (" +
                              where.of(ceil_key) + "): the guaranteed rate cannot exceed the maximum");
  if (rate < kMinShapeRate)
    return fail(rate_key, format_rate_bps(rate) + " is below " + format_rate_bps(kMinShapeRate) +
                              ": HTB cannot shape that slowly");
  if (std::max(rate, ceil) > k.uplink_bps)
    return fail(has_ceil ? ceil_key : rate_key, format_rate_bps(std::max(rate, ceil)) + " is above " + k.uplink +
                                                    ": no slice can " + k.verb + " more than the uplink");
  // The slice's HTB class is <major>:<id>; the two top minors are the uplink's own classes.
  if (s.id >= kFirstReservedShapeMinor)
    return fail(rate_key, "slice id " + std::to_string(s.id) + " has no HTB class: shaped slices need ids below " +
                              std::to_string(kFirstReservedShapeMinor) + " (the class minor is the id, 16 bits)");
  return ok_status();
}

}  // namespace

Status check_daemon(const DaemonDraft& daemon, const HostLimits& host) {
  const DaemonSettings& s = daemon.settings;
  const Origins& where = daemon.where;
  for (auto [key, path] : {std::pair<std::string_view, const std::string*>{"socket", &s.socket},
                           {"state_dir", &s.state_dir}, {"bpffs", &s.bpffs}, {"cgroup", &s.cgroup}})
    NETD_TRY(check_absolute_path(*path, where, key));
  if (s.socket.size() >= sizeof(sockaddr_un::sun_path))
    return policy_error(where.of("socket"), "netd.socket",
                        "'" + s.socket + "' is longer than a unix socket address allows (" +
                            std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes)");

  if (s.mark_mask == 0)
    return policy_error(where.of("mark_mask"), "netd.mark_mask", "must not be 0: slice marks live in these bits");
  uint64_t field = static_cast<uint64_t>(s.mark_mask) >> __builtin_ctz(s.mark_mask);
  if ((field & (field + 1)) != 0)
    return policy_error(where.of("mark_mask"), "netd.mark_mask",
                        hex32(s.mark_mask) + ": the set bits must be contiguous (the slice id is stored as "
                                             "one number, id << lowest set bit)");
  if (__builtin_popcount(s.raw_flag) != 1)
    return policy_error(where.of("raw_flag"), "netd.raw_flag", hex32(s.raw_flag) + ": must be exactly one bit");
  if ((s.raw_flag & s.mark_mask) != 0)
    return policy_error(where.of("raw_flag"), "netd.raw_flag",
                        hex32(s.raw_flag) + " lies inside mark_mask " + hex32(s.mark_mask) +
                            ": it would be mistaken for part of a slice id");

  uint64_t max_id = field;  // the largest id the mask can carry
  if (s.table_base < kMinTableBase)
    return policy_error(where.of("table_base"), "netd.table_base",
                        std::to_string(s.table_base) + " is below 256: slice tables table_base + id must not "
                        "collide with the kernel's local/main/default tables (253..255)");
  if (s.table_base + max_id > kMaxTable)
    return policy_error(where.of("table_base"), "netd.table_base",
                        std::to_string(s.table_base) + " + the largest slice id " + std::to_string(max_id) +
                            " exceeds the last routing table " + std::to_string(kMaxTable));

  NETD_TRY(check_device_list(s.uplinks, where, "netd", "uplinks"));
  if (s.uplink_rate_bps < kMinShapeRate)
    return policy_error(where.of("uplink_rate"), "netd.uplink_rate",
                        format_rate_bps(s.uplink_rate_bps) + " is below " + format_rate_bps(kMinShapeRate) +
                            ": HTB cannot shape that slowly");
  if (s.uplink_rate_in_bps < kMinShapeRate)
    return policy_error(where.of("uplink_rate_in"), "netd.uplink_rate_in",
                        format_rate_bps(s.uplink_rate_in_bps) + " is below " + format_rate_bps(kMinShapeRate) +
                            ": HTB cannot shape that slowly");
  NETD_TRY(check_no_repeats(s.admins, where, "netd", "admins",
                            [](uid_t u) { return "uid " + std::to_string(u); }));
  NETD_TRY(check_fleet(s, where));
  return check_connections(s, where, host);
}

Status check_slice(const DaemonSettings& daemon, const SliceDraft& slice) {
  const SliceSpec& s = slice.spec;
  const Origins& where = slice.where;
  const std::string subject = slice.subject();
  auto fail = [&](std::string_view key, const std::string& reason) {
    return policy_error(where.of(key), key_subject(subject, key), reason);
  };

  if (!where.has("name")) return fail("name", "missing required key (every [[slice]] needs a name)");
  if (!is_valid_slice_name(s.name))
    return fail("name", "'" + s.name + "' must match [a-z][a-z0-9_-]{0,30}");
  if (!where.has("id")) return fail("id", "missing required key (the slice id decides its mark and table)");
  uint32_t max_id = daemon.mark_mask >> __builtin_ctz(daemon.mark_mask);
  if (s.id < 1 || s.id > max_id)
    return fail("id", std::to_string(s.id) + " is outside 1.." + std::to_string(max_id) +
                          " (the ids mark_mask " + hex32(daemon.mark_mask) + " can carry; 0 means unmarked)");

  if (s.uids.empty() && s.gids.empty())
    return fail(where.has("gids") && !where.has("uids") ? "gids" : "uids",
                "a slice needs at least one member: set uids or gids (neither is present or both are empty)");
  // Root is refused as a member: it holds CAP_NET_ADMIN anyway, and tagging root's sockets (every
  // daemon's, netd's own) with a slice mark would route system traffic through a slice's table.
  for (size_t i = 0; i < s.uids.size(); ++i)
    if (s.uids[i] == 0)
      return policy_error(where.of("uids", i), key_subject(subject, "uids"),
                          "uid 0 (root) cannot be a slice member: root holds CAP_NET_ADMIN anyway, and "
                          "marking its sockets would send system traffic through the slice's table");
  for (size_t i = 0; i < s.gids.size(); ++i)
    if (s.gids[i] == 0)
      return policy_error(where.of("gids", i), key_subject(subject, "gids"),
                          "gid 0 (root) cannot name slice members: root's processes are in it, and root "
                          "holds CAP_NET_ADMIN anyway");

  NETD_TRY(check_device_list(s.route_devices, where, subject, "route_devices"));
  NETD_TRY(check_no_repeats(s.route_prefixes, where, subject, "route_prefixes",
                            [](const Prefix& p) { return p.to_string(); }));

  for (size_t i = 0; i < s.raw.size(); ++i)
    if (std::find(std::begin(kRawKinds), std::end(kRawKinds), s.raw[i]) == std::end(kRawKinds))
      return policy_error(where.of("raw", i), key_subject(subject, "raw"),
                          "'" + s.raw[i] + "' is not a raw socket kind (icmp, icmpv6, udp, tcp, packet)");
  NETD_TRY(check_no_repeats(s.raw, where, subject, "raw", [](const std::string& k) { return "'" + k + "'"; }));
  NETD_TRY(check_device_list(s.packet_send_devices, where, subject, "packet_send_devices"));
  // A monitor's flow log is NFLOG group flowlog_group + id, and NFLOG groups are 16-bit. Only monitors
  // need a group, so a wide mark_mask with large ids stays valid for everyone else.
  if (s.capture_all && static_cast<uint64_t>(daemon.flowlog_group) + s.id > kMaxNflogGroup)
    return fail("capture_all", "the flow log group of a monitor is [netd] flowlog_group + id = " +
                                   std::to_string(daemon.flowlog_group) + " + " + std::to_string(s.id) + " = " +
                                   std::to_string(static_cast<uint64_t>(daemon.flowlog_group) + s.id) +
                                   ", above the last NFLOG group " + std::to_string(kMaxNflogGroup) +
                                   ": lower flowlog_group");

  NETD_TRY(check_shaping(slice, ShapeKeys::egress(daemon)));
  NETD_TRY(check_shaping(slice, ShapeKeys::ingress(daemon)));

  if (s.max_sockbuf > kMaxSockbuf)
    return fail("max_sockbuf", format_size_bytes(s.max_sockbuf) +
                                   " is above 2GiB (socket buffer sizes are an int in the kernel)");

  // Vif names tun<id>-<n> (n < max_vifs) must fit IFNAMSIZ, or the slice could never use its quota.
  if (s.max_vifs > 0 && 3 + decimal_digits(s.id) + 1 + decimal_digits(s.max_vifs - 1) > kMaxIfnameLength)
    return fail("max_vifs", std::to_string(s.max_vifs) + " vifs named tun" + std::to_string(s.id) +
                                "-<n> would not fit the 15 characters of a device name");
  return ok_status();
}

Status check_across_slices(const std::vector<SliceDraft>& slices) {
  std::vector<SliceRef> refs;
  refs.reserve(slices.size());
  for (const SliceDraft& slice : slices) refs.push_back({&slice.spec, &slice.where});
  return check_across_slices(refs);
}

Status check_across_slices(const std::vector<SliceRef>& slices) {
  std::unordered_map<std::string_view, size_t> names;
  std::unordered_map<uint32_t, size_t> ids;
  names.reserve(slices.size());
  ids.reserve(slices.size());
  for (size_t i = 0; i < slices.size(); ++i) {
    const SliceRef& slice = slices[i];
    auto [name_it, new_name] = names.emplace(slice.spec->name, i);
    if (!new_name)
      return policy_error(origins(slice).of("name"), key_subject(subject(slice), "name"),
                          "'" + slice.spec->name + "' is already the name of the slice at " +
                              slices[name_it->second].spec->source);
    auto [id_it, new_id] = ids.emplace(slice.spec->id, i);
    if (!new_id)
      return policy_error(origins(slice).of("id"), key_subject(subject(slice), "id"),
                          std::to_string(slice.spec->id) + " is already the id of slice " +
                              slices[id_it->second].spec->name + " (" +
                              origins(slices[id_it->second]).of("id") + ")");
  }
  NETD_TRY(check_unique_ids(slices, false));
  NETD_TRY(check_unique_ids(slices, true));
  NETD_TRY(check_netblocks(slices));
  NETD_TRY(check_bind_ports(slices));
  return ok_status();
}

Status settle_daemon(DaemonDraft& daemon, const HostLimits& host) {
  // An omitted uplink_rate_in is uplink_rate (a symmetric link), before the slices are checked against it.
  if (!daemon.where.has("uplink_rate_in")) daemon.settings.uplink_rate_in_bps = daemon.settings.uplink_rate_bps;
  NETD_TRY(check_daemon(daemon, host));
  // An omitted max_connections is the most this host leaves room for, up to the default.
  if (auto room = connection_fds(host); room && !daemon.where.has("max_connections"))
    daemon.settings.max_connections = static_cast<uint32_t>(std::min<uint64_t>(daemon.settings.max_connections, *room));
  return ok_status();
}

void settle_slice(SliceDraft& slice) {
  // An omitted ceil (ceil_in) means "no borrowing above the guarantee": ceil = rate.
  if (!slice.where.has("ceil")) slice.spec.ceil_bps = slice.spec.rate_bps;
  if (!slice.where.has("ceil_in")) slice.spec.ceil_in_bps = slice.spec.rate_in_bps;
}

Result<Policy> validate_policy(DaemonDraft daemon, std::vector<SliceDraft> slices, const HostLimits& host) {
  NETD_TRY(settle_daemon(daemon, host));
  for (const SliceDraft& slice : slices) NETD_TRY(check_slice(daemon.settings, slice));
  NETD_TRY(check_across_slices(slices));
  Policy policy;
  policy.netd = std::move(daemon.settings);
  policy.slices.reserve(slices.size());
  for (SliceDraft& slice : slices) {
    settle_slice(slice);
    policy.slices.push_back(std::move(slice.spec));
  }
  return policy;
}

}  // namespace netd::policy
