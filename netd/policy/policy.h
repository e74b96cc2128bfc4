// The policy model: what the TOML file says, validated. Pure data + lookups, no syscalls.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/core/net_types.h"
#include "lib/core/result.h"

namespace netd::policy {

struct PortRange {
  uint16_t first = 0;
  uint16_t last = 0;  // inclusive
  bool contains(uint16_t port) const { return port >= first && port <= last; }
  friend bool operator==(const PortRange&, const PortRange&) = default;
};

// One [[slice]] table. Defaults are what an omitted key means (the restrictive choice
// wherever an omitted key could otherwise grant something).
struct SliceSpec {
  std::string name;
  uint32_t id = 0;
  std::vector<uid_t> uids;
  std::vector<gid_t> gids;
  std::vector<Prefix> netblock;

  std::vector<std::string> route_devices;
  std::vector<Prefix> route_prefixes;
  uint32_t max_routes = 64;

  uint32_t max_vifs = 4;
  bool snat = false;

  std::vector<std::string> raw;  // "icmp", "icmpv6", "udp", "tcp", "packet"
  bool capture_all = false;
  std::vector<std::string> packet_send_devices;

  uint64_t rate_bps = 0;  // 0: not shaped (default class)
  uint64_t ceil_bps = 0;  // 0: same as rate
  // The same for what the slice receives on the uplinks (downloads): 0: not shaped in that
  // direction (the ingress tree's default class); ceil_in 0: same as rate_in.
  uint64_t rate_in_bps = 0;
  uint64_t ceil_in_bps = 0;

  std::vector<PortRange> bind_ports;
  uint64_t max_sockbuf = 4u << 20;
  uint32_t max_priority = 0;

  std::string source;  // "file:line" where the [[slice]] table starts, for messages
  friend bool operator==(const SliceSpec&, const SliceSpec&) = default;
};

// [netd] policy_source: the local file only, or the slices of an etcd prefix as well.
enum class PolicySource { kFile, kEtcd };
const char* to_string(PolicySource source);

// The [netd] table.
struct DaemonSettings {
  std::string socket = "/run/netd/netd.sock";
  std::string state_dir = "/var/lib/netd";
  std::string bpffs = "/sys/fs/bpf/netd";
  std::string cgroup = "/sys/fs/cgroup/unified";
  uint32_t mark_mask = 0x0fff0000;
  uint32_t raw_flag = 0x10000000;
  uint32_t table_base = 10000;
  uint32_t rule_priority = 1000;
  // NFLOG group of a monitor slice's flow log = flowlog_group + slice id (0x4e00: 'N' << 8).
  uint32_t flowlog_group = 0x4e00;
  std::vector<std::string> uplinks;
  // What each uplink's HTB tree may send in all (its top class): slices borrow up to their
  // ceil from it. Set it a little below the real line rate, so the queue forms in HTB, where
  // the guarantees are kept, rather than in the device.
  uint64_t uplink_rate_bps = 10'000'000'000;
  // What each uplink's ingress tree may receive in all (its top class), for slices with a
  // rate_in. When the file omits it, validation sets it to uplink_rate (so this default is
  // uplink_rate's default): a symmetric link needs one key. Set it a little below the real
  // line rate too, so the queue forms in netd's tree rather than upstream of the host.
  uint64_t uplink_rate_in_bps = 10'000'000'000;
  std::vector<uid_t> admins = {0};
  // Resource caps on the Varlink socket (admins are exempt from them, not from the timeouts).
  uint32_t max_connections_per_uid = 64;
  uint32_t requests_per_second_per_uid = 20000;
  // All non-admin uids together, so many uids cannot fill netd's fd table. When omitted,
  // lowered to what RLIMIT_NOFILE leaves (HostLimits).
  uint32_t max_connections = 4096;
  uint64_t idle_timeout_ms = 300'000;   // no complete request for this long: closed; 0: never
  uint64_t request_timeout_ms = 10'000;  // an incomplete request or unread replies this long: closed
  // How often netd reads the kernel state it manages and mends what differs from the policy
  // (a rule, class, chain or map entry someone else changed); between checks it works from
  // its own record. 0: only at start and when a change from the record fails.
  uint64_t verify_interval_ms = 600'000;

  // Where the slices come from (man/netd.policy.5, FLEET). The etcd_* keys and node_* keys are
  // the local file's only: nothing read from etcd can set them, so etcd can never point netd at
  // another store, socket, bpffs, cgroup or state path.
  PolicySource policy_source = PolicySource::kFile;
  std::vector<std::string> etcd_endpoints;  // "http(s)://host:port", one scheme for all
  std::string etcd_prefix = "/netd/";       // starts and ends with '/'
  std::string etcd_cacert;                  // absolute paths; empty: not set
  std::string etcd_cert;
  std::string etcd_key;
  std::string etcd_user;                    // with etcd_password_file, never a password inline
  std::string etcd_password_file;
  uint32_t node_ttl_s = 10;                 // the lease of <prefix>nodes/<node_name>
  std::string node_name;                    // empty: the host name (uname), taken when netd starts
  friend bool operator==(const DaemonSettings&, const DaemonSettings&) = default;
};

// What the host lets netd hold, for the keys that must fit in it. Validation is pure: netd
// passes what it reads from the kernel (current_host_limits()); the default checks nothing.
struct HostLimits {
  uint64_t max_fds = 0;  // RLIMIT_NOFILE's hard limit, which netd raises itself to; 0: unknown
  // Kept for netd's own fds (netlink, nft and BPF objects, fds passing through a request),
  // never given to connections.
  static constexpr uint64_t kReservedFds = 256;
};

// The slices of a policy, in load order. Each spec is shared, read-only, between the policies
// that hold it: a reload that keeps a slice keeps its spec (PolicyLoader hands out what it
// remembers), so making or dropping a policy of thousands of slices costs a pointer per slice,
// not a copy of every spec. Reads as a vector of SliceSpec.
class SliceList {
  using Shared = std::shared_ptr<const SliceSpec>;

 public:
  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = SliceSpec;
    using difference_type = std::ptrdiff_t;
    using pointer = const SliceSpec*;
    using reference = const SliceSpec&;
    const_iterator() = default;
    explicit const_iterator(std::vector<Shared>::const_iterator at) : at_(at) {}
    reference operator*() const { return **at_; }
    pointer operator->() const { return at_->get(); }
    const_iterator& operator++() {
      ++at_;
      return *this;
    }
    const_iterator operator++(int) { return const_iterator(at_++); }
    friend bool operator==(const const_iterator&, const const_iterator&) = default;

   private:
    std::vector<Shared>::const_iterator at_;
  };
  using iterator = const_iterator;

  SliceList() = default;
  SliceList(std::initializer_list<SliceSpec> specs) {
    for (const SliceSpec& s : specs) push_back(s);
  }
  SliceList(const SliceList&) = default;
  SliceList& operator=(const SliceList&) = default;
  // A list moved from is empty, and its version says so.
  SliceList(SliceList&& other) noexcept
      : specs_(std::move(other.specs_)), version_(std::exchange(other.version_, 0)) {
    other.specs_.clear();
  }
  SliceList& operator=(SliceList&& other) noexcept {
    specs_ = std::move(other.specs_);
    other.specs_.clear();
    version_ = std::exchange(other.version_, 0);
    return *this;
  }

  size_t size() const { return specs_.size(); }
  bool empty() const { return specs_.empty(); }
  const_iterator begin() const { return const_iterator(specs_.begin()); }
  const_iterator end() const { return const_iterator(specs_.end()); }
  const SliceSpec& operator[](size_t i) const { return *specs_[i]; }
  const SliceSpec& at(size_t i) const { return *specs_.at(i); }
  const SliceSpec& front() const { return *specs_.front(); }
  const SliceSpec& back() const { return *specs_.back(); }
  // For changing a slice in place (tests, policy_with_owners): a spec that another policy
  // shares is copied first, so only this policy sees the change.
  SliceSpec& edit(size_t i);
  // The shared SliceSpec, to put in another list as it is.
  const Shared& shared(size_t i) const { return specs_[i]; }

  void reserve(size_t n) { specs_.reserve(n); }
  void push_back(SliceSpec spec) { push_back(std::make_shared<SliceSpec>(std::move(spec))); }
  void push_back(Shared spec) {
    specs_.push_back(std::move(spec));
    version_ = next_version();
  }
  // Changes whenever the list is another one (a copy, a new policy), grows, or has a slice
  // edited: what the policy's index is checked against.
  std::pair<const void*, uint64_t> identity() const { return {specs_.data(), version_}; }
  // Another number at every change of any list (0: empty from the start, or moved from): two
  // lists of one version are one list, or copies of it with nothing changed since. A backend
  // that remembers the version it applied knows, without comparing, whether a policy is that one.
  uint64_t version() const { return version_; }

 private:
  static uint64_t next_version();

  std::vector<Shared> specs_;
  uint64_t version_ = 0;
};

struct Policy {
  DaemonSettings netd;
  SliceList slices;

  // Lowest set bit of mark_mask: slice mark = id << mark_shift().
  int mark_shift() const;
  uint32_t max_slice_id() const { return netd.mark_mask >> mark_shift(); }
  uint32_t mark_of(const SliceSpec& s) const { return s.id << mark_shift(); }
  uint32_t table_of(const SliceSpec& s) const { return netd.table_base + s.id; }

  const SliceSpec* find_by_name(std::string_view name) const;
  const SliceSpec* find_by_id(uint32_t id) const;
  // Membership: uid first, then the primary gid, then supplementary gids (in that order).
  const SliceSpec* find_member(uid_t uid, gid_t gid, const std::vector<gid_t>& supplementary) const;
  bool is_admin(uid_t uid) const;

  // The lookups above go through an index of where each id, name, uid and gid is in `slices`
  // (the first, should one repeat), so they cost log2(n) comparisons (every request asks who
  // its caller is). Made by the first lookup, and again once `slices` is another list, grew or
  // had a slice edited (a copy, a new policy, SliceList::edit).

 private:
  // Sorted (key, position) arrays, searched by halving: four allocations whatever the number
  // of slices (a hash map's node per entry made a reload's index cost ~1 ms to build and as
  // much to free at 4096 slices). Equal keys keep load order, so a search finds the first.
  struct SliceIndex {
    std::pair<const void*, uint64_t> list{};  // SliceList::identity() when made
    size_t size = 0;
    std::vector<std::pair<uint32_t, uint32_t>> by_id, by_uid, by_gid;
    std::vector<std::pair<std::string_view, uint32_t>> by_name;  // views of the specs' names
  };
  const SliceIndex& index() const;
  mutable std::shared_ptr<SliceIndex> index_;  // netd is single-threaded
};

}  // namespace netd::policy
