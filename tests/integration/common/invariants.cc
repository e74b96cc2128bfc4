#include "tests/integration/common/invariants.h"

#include <algorithm>
#include <bit>
#include <sstream>

#include "netd/policy/loader.h"
#include "tests/fixtures/eventually.h"
#include "tests/fixtures/json.h"
#include "tests/integration/common/invariant_checks.h"
#include "tests/integration/common/testbed.h"

namespace netd::testing {
namespace {

using invariants::Facts;
using invariants::Violations;

// The SO_MARK of a new UDP and a new TCP/IPv6 socket: what the tagging program gives the uid.
constexpr const char* kMarkProbe = R"PY(
import socket
marks = []
for family, kind in ((socket.AF_INET, socket.SOCK_DGRAM), (socket.AF_INET6, socket.SOCK_STREAM)):
    s = socket.socket(family, kind)
    marks.append(s.getsockopt(socket.SOL_SOCKET, socket.SO_MARK))
    s.close()
print(*marks)
)PY";

// netd's account of each slice, asked as the slice's first uid: its vifs, and its shaping.
void ask_netd(const Testbed& bed, const KernelView& view, Facts& facts, Violations& out) {
  std::set<std::string> listed;
  for (const auto& [id, s] : facts.slices) {
    if (s->uids.empty()) {  // a slice of gids only: no uid to ask as, its vifs count as known
      for (const auto& [name, vif] : facts.vifs)
        if (vif.slice_id == id) listed.insert(name);
      continue;
    }
    const uid_t uid = s->uids.front();
    auto list = bed.vtuntap(uid, {"-j", "list"});
    auto vifs = json_of(list.out);
    if (!list.ok() || !vifs.is_array()) {
      out.push_back("netd: vtuntap -j list as uid " + std::to_string(uid) + ": " + list.describe());
      continue;
    }
    for (const auto& v : vifs) {
      const std::string name = v.value("name", "");
      listed.insert(name);
      const KernelView::Link* link = view.link(name);
      if (link == nullptr || link->ifindex != v.value("ifindex", 0))
        out.push_back("netd: slice " + s->name + " lists vif " + name + " (ifindex " +
                      std::to_string(v.value("ifindex", 0)) + "), which the kernel does not have");
      if (invariants::vif_slice_id(name) != id) out.push_back("netd: slice " + s->name + " lists vif " + name);
    }
    if (s->rate_bps == 0 && s->rate_in_bps == 0) continue;
    auto shown = bed.sliceip(uid, {"-j", "shape", "show"});
    auto shape = json_of(shown.out);
    if (!shown.ok() || !shape.is_object()) {
      out.push_back("netd: sliceip -j shape show as uid " + std::to_string(uid) + ": " + shown.describe());
      continue;
    }
    for (const auto& [suffix, shaped, facts_of] :
         {std::tuple{std::string(), s->rate_bps != 0, &facts.shaping},
          std::tuple{std::string("_in"), s->rate_in_bps != 0, &facts.shaping_in}}) {
      if (!shaped) continue;
      const auto& current = shape["current" + suffix];
      if (!current.is_object()) {
        out.push_back("netd: sliceip -j shape show as uid " + std::to_string(uid) + " has no current" + suffix);
        continue;
      }
      (*facts_of)[s->name] = {current.value("rate", uint64_t{0}), current.value("ceil", uint64_t{0}),
                              shape.value("lowered" + suffix, false)};
    }
  }
  for (auto& [name, vif] : facts.vifs) vif.known_to_netd = listed.count(name) != 0;
}

void probe_tagging(const Testbed& bed, const Facts& facts, const InvariantOptions& options, Violations& out) {
  auto expect_mark = [&](uid_t uid, uint32_t mark, const std::string& who) {
    auto r = bed.as(uid, {"/usr/bin/python3", "-c", kMarkProbe});
    std::istringstream in(r.out);
    uint32_t v4 = 0, v6 = 0;
    if (!r.ok() || !(in >> v4 >> v6)) {
      out.push_back("isolation: the mark probe as uid " + std::to_string(uid) + " failed: " + r.describe());
      return;
    }
    if (v4 != mark || v6 != mark)
      out.push_back("isolation: " + who + "'s new sockets carry marks " + invariants::hex(v4) + " (udp) and " +
                    invariants::hex(v6) + " (tcp6), not " + invariants::hex(mark));
  };
  std::set<uid_t> members;
  for (const auto& [id, s] : facts.slices) {
    members.insert(s->uids.begin(), s->uids.end());
    if (!s->uids.empty())
      expect_mark(s->uids.front(), facts.mark_of(id),
                  "slice " + s->name + " (uid " + std::to_string(s->uids.front()) + ")");
  }
  for (uid_t uid : options.non_members)
    if (!members.count(uid)) expect_mark(uid, 0, "non-member uid " + std::to_string(uid));
}

}  // namespace

std::vector<std::string> check_invariants(const Testbed& bed, const policy::Policy& policy,
                                          const InvariantOptions& options) {
  Violations out;
  Facts facts;
  facts.policy = &policy;
  facts.mark_shift = std::countr_zero(policy.netd.mark_mask);
  facts.max_id = policy.netd.mark_mask >> facts.mark_shift;
  for (const auto& s : policy.slices) facts.slices[s.id] = &s;
  facts.netd_in_cgroup = bed.netd_in_cgroup();

  KernelView view = KernelView::read(bed);
  for (const auto& e : view.read_errors) out.push_back("reading the kernel: " + e);
  for (const auto& [name, link] : view.links) {
    auto id = invariants::vif_slice_id(name);
    if (!id || link.kind != "tun" || !facts.slices.count(*id)) continue;
    invariants::VifFacts vif{name, *id, link.ifindex, false, {}};
    for (const auto& a : link.addresses)
      if (!invariants::is_link_local(a)) vif.addresses.push_back(a);
    facts.vifs[name] = vif;
  }
  ask_netd(bed, view, facts, out);

  invariants::check_rules_and_routes(view, facts, out);
  invariants::check_vifs(view, facts, out);
  invariants::check_nft(view, facts, out);
  invariants::check_bpf(view, facts, out);
  invariants::check_shaping(view, facts, out);
  if (options.probe_tagging) probe_tagging(bed, facts, options, out);
  return out;
}

std::vector<std::string> check_invariants(const Testbed& bed, const InvariantOptions& options) {
  auto policy = policy::load_policy(bed.policy_path());
  if (!policy.ok()) return {"the policy file does not load: " + policy.error().message};
  return check_invariants(bed, *policy, options);
}

std::vector<std::string> settled_invariants(const Testbed& bed, const policy::Policy& policy,
                                            const InvariantOptions& options, std::chrono::milliseconds timeout) {
  std::vector<std::string> last;
  eventually([&] { return (last = check_invariants(bed, policy, options)).empty(); }, timeout,
             std::chrono::milliseconds(50));
  return last;
}

std::vector<std::string> settled_invariants(const Testbed& bed, const InvariantOptions& options,
                                            std::chrono::milliseconds timeout) {
  auto policy = policy::load_policy(bed.policy_path());
  if (!policy.ok()) return {"the policy file does not load: " + policy.error().message};
  return settled_invariants(bed, *policy, options, timeout);
}

}  // namespace netd::testing
