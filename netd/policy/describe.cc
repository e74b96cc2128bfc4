// describe_policy: the summary `netd --check-policy FILE` prints, so an admin can see what netd would
// do with a file (marks, tables, grants) before reloading it. Plain aligned text, one block per slice.
#include <cstdio>
#include <string>
#include <vector>

#include "lib/core/hex.h"
#include "netd/policy/loader.h"
#include "netd/policy/shape_plan.h"
#include "netd/policy/validate.h"

namespace netd::policy {

namespace {

std::string hex16(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%04x", v);
  return buf;
}

template <typename T, typename Format>
std::string join(const std::vector<T>& values, Format format, const std::string& empty) {
  if (values.empty()) return empty;
  std::string out;
  for (const T& v : values) out += (out.empty() ? "" : " ") + format(v);
  return out;
}

std::string join_strings(const std::vector<std::string>& values, const std::string& empty) {
  return join(values, [](const std::string& s) { return s; }, empty);
}

template <typename Int>
std::string join_numbers(const std::vector<Int>& values, const std::string& empty) {
  return join(values, [](Int v) { return std::to_string(v); }, empty);
}

std::string join_prefixes(const std::vector<Prefix>& values, const std::string& empty) {
  return join(values, [](const Prefix& p) { return p.to_string(); }, empty);
}

void line(std::string& out, const std::string& label, const std::string& value) {
  out += "  " + label;
  if (label.size() < 16) out.append(16 - label.size(), ' ');
  out += " " + value + "\n";
}

const char* yes_no(bool b) { return b ? "yes" : "no"; }

std::string shaping(const ShapeLimits& limits, const char* rate, const char* ceil) {
  if (limits.rate_bps == 0) return "unshaped (default class)";
  return std::string(rate) + " " + format_rate_bps(limits.rate_bps) + ", " + ceil + " " +
         format_rate_bps(limits.ceil_bps);
}

// Where the slices come from, and how netd reaches etcd when they come from there too.
void describe_source(std::string& out, const DaemonSettings& d) {
  if (d.policy_source == PolicySource::kFile) {
    const DaemonSettings defaults;
    const bool etcd_keys = !d.etcd_endpoints.empty() || d.etcd_prefix != defaults.etcd_prefix ||
                           !d.etcd_cacert.empty() || !d.etcd_cert.empty() || !d.etcd_user.empty() ||
                           !d.node_name.empty() || d.node_ttl_s != defaults.node_ttl_s;
    std::string unused = etcd_keys ? " (the etcd keys are unused)" : "";
    line(out, "policy_source", "file: the slices of this file and policy.d" + unused);
    return;
  }
  line(out, "policy_source", "etcd: this file's slices, then " + d.etcd_prefix + "slices/* and " + d.etcd_prefix +
                                 "hosts/<node>/slices/* (slices only; [netd] stays local)");
  line(out, "etcd_endpoints", join_strings(d.etcd_endpoints, "none"));
  std::string tls = "none (http)";
  if (!d.etcd_endpoints.empty() && d.etcd_endpoints[0].starts_with("https://")) {
    tls = "server checked against " + (d.etcd_cacert.empty() ? std::string("the system's CAs") : d.etcd_cacert);
    if (!d.etcd_cert.empty()) tls += "; client certificate " + d.etcd_cert + ", key " + d.etcd_key;
  }
  line(out, "etcd TLS", tls);
  line(out, "etcd auth", d.etcd_user.empty() ? std::string("none")
                                             : "user " + d.etcd_user + ", password in " + d.etcd_password_file);
  const std::string node = d.node_name.empty() ? std::string("<host name>") : d.node_name;
  line(out, "node", node + " (record " + d.etcd_prefix + "nodes/" + node + ", lease " +
                        std::to_string(d.node_ttl_s) + "s)");
}

}  // namespace

std::string describe_policy(const Policy& policy) {
  const DaemonSettings& d = policy.netd;
  std::string out = "netd:\n";
  line(out, "socket", d.socket);
  line(out, "state_dir", d.state_dir);
  line(out, "bpffs", d.bpffs);
  line(out, "cgroup", d.cgroup);
  line(out, "mark_mask", hex32(d.mark_mask) + " (slice ids 1.." + std::to_string(policy.max_slice_id()) +
                             ", mark = id << " + std::to_string(policy.mark_shift()) + ")");
  line(out, "raw_flag", hex32(d.raw_flag));
  line(out, "table_base", std::to_string(d.table_base) + " (slice table = table_base + id)");
  line(out, "rule_priority", std::to_string(d.rule_priority));
  line(out, "flowlog_group", std::to_string(d.flowlog_group) + " (" + hex16(d.flowlog_group) +
                                 "; a monitor's NFLOG group = flowlog_group + id)");
  line(out, "uplinks", join_strings(d.uplinks, "none (no shaping or capture)"));
  line(out, "uplink_rate", format_rate_bps(d.uplink_rate_bps) + " (each uplink's HTB top class)");
  line(out, "uplink_rate_in", format_rate_bps(d.uplink_rate_in_bps) + " (each uplink's ingress HTB top class)");
  line(out, "admins", join_numbers(d.admins, "none"));
  line(out, "connections", std::to_string(d.max_connections_per_uid) + " per uid, " +
                               std::to_string(d.max_connections) + " in all (admins exempt)");
  line(out, "requests", std::to_string(d.requests_per_second_per_uid) + " per second per uid");
  line(out, "idle_timeout", d.idle_timeout_ms == 0 ? std::string("never") : format_time_us(d.idle_timeout_ms * 1000));
  line(out, "request_timeout", format_time_us(d.request_timeout_ms * 1000));
  line(out, "verify_interval", d.verify_interval_ms == 0 ? std::string("never (at start and after a failure only)")
                                                         : format_time_us(d.verify_interval_ms * 1000));
  describe_source(out, d);
  out += std::to_string(policy.slices.size()) + (policy.slices.size() == 1 ? " slice\n" : " slices\n");

  for (const SliceSpec& s : policy.slices) {
    out += "\nslice " + s.name + " (" + s.source + ")\n";
    line(out, "id", std::to_string(s.id));
    line(out, "mark", hex32(policy.mark_of(s)) + "/" + hex32(d.mark_mask));
    line(out, "table", std::to_string(policy.table_of(s)));
    line(out, "members", "uids " + join_numbers(s.uids, "none") + "; gids " + join_numbers(s.gids, "none"));
    line(out, "netblock", join_prefixes(s.netblock, "none (no addresses on its vifs)"));
    line(out, "route devices", join_strings(s.route_devices, "none") + " (+ its own vifs)");
    line(out, "route prefixes", join_prefixes(s.route_prefixes, "none (no routes)"));
    line(out, "quotas", "max_routes " + std::to_string(s.max_routes) + ", max_vifs " + std::to_string(s.max_vifs));
    line(out, "snat", yes_no(s.snat));
    line(out, "raw", join_strings(s.raw, "none"));
    line(out, "capture_all", s.capture_all ? "yes (flow log: NFLOG group " +
                                                 std::to_string(d.flowlog_group + s.id) + ")"
                                           : std::string("no"));
    line(out, "packet send", join_strings(s.packet_send_devices, "none") + " (+ its own vifs)");
    line(out, "shaping", shaping(policy_limits(s), "rate", "ceil"));
    line(out, "shaping in", shaping(policy_limits(s, ShapeDirection::kIngress), "rate_in", "ceil_in"));
    line(out, "bind_ports", join(s.bind_ports, format_port_range, "none"));
    line(out, "max_sockbuf", format_size_bytes(s.max_sockbuf));
    line(out, "max_priority", std::to_string(s.max_priority));
  }
  return out;
}

}  // namespace netd::policy
