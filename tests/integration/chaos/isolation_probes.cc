#include "tests/integration/chaos/isolation_probes.h"

#include <cerrno>
#include <set>

namespace netd::testing {
namespace {

using Violations = std::vector<std::string>;

uint32_t mark_of(const policy::Policy& p, uint32_t id) { return id << p.mark_shift(); }

uint32_t expected_mark(const ProbeSubjects& s, uid_t uid) {
  const policy::SliceSpec* slice = s.policy->find_member(uid, uid, {});
  return slice == nullptr ? 0 : mark_of(*s.policy, slice->id);
}

std::string who(const Agent& a) { return a.label() + " (uid " + std::to_string(a.uid()) + ")"; }

void probe_marks(const ProbeSubjects& s, Violations& out) {
  for (Agent* a : s.agents) {
    auto r = a->exchange({{"op", "marks"}}, {"marks"});
    uint32_t want = expected_mark(s, a->uid());
    if (!r.is_object() || r["marks"] != nlohmann::json::array({want, want}))
      out.push_back("isolation: " + who(*a) + "'s new sockets carry marks " + r.dump() + ", not " +
                    std::to_string(want));
  }
}

// Every agent sends itself a datagram; no agent's raw sockets may have queued another uid's.
void probe_raw_receive(const ProbeSubjects& s, Violations& out) {
  for (Agent* a : s.agents) a->exchange({{"op", "raw-drain"}}, {"drained"});
  std::map<std::string, uid_t> senders;  // payload -> uid
  for (size_t i = 0; i < s.agents.size(); ++i) {
    Agent* a = s.agents[i];
    std::string payload = "self-" + a->label() + "-" + std::to_string(s.cycle);
    senders[payload] = a->uid();
    auto r = a->exchange({{"op", "udp-self"}, {"port", 20000 + i}, {"payload", payload}}, {"udp-self"});
    if (r.value("ok", false) != true)
      out.push_back("probe: " + who(*a) + "'s datagram to itself did not arrive: " + r.dump());
  }
  for (Agent* a : s.agents) {
    auto r = a->exchange({{"op", "raw-seen"}}, {"raw-seen"});
    for (const auto& p : r.value("payloads", nlohmann::json::array())) {
      auto it = senders.find(p.get<std::string>());
      if (it != senders.end() && it->second != a->uid())
        out.push_back("isolation: a raw socket of " + who(*a) + " received uid " + std::to_string(it->second) +
                      "'s datagram " + it->first);
    }
  }
}

void probe_raw_send(const ProbeSubjects& s, Violations& out) {
  const uint32_t flag = s.policy->netd.raw_flag, mask = s.policy->netd.mark_mask;
  for (size_t i = 0; i < s.agents.size(); ++i) {
    Agent* a = s.agents[i];
    auto it = s.slice_ids.find(a->uid());
    if (it == s.slice_ids.end()) continue;  // never a member: holds no raw socket
    std::string tag = "fence-" + a->label() + "-" + std::to_string(s.cycle);
    auto r = a->exchange({{"op", "raw-fence"}, {"port", 21000 + 32 * i}, {"tag", tag}}, {"raw-fence"});
    if (!r.is_object()) {
      out.push_back("probe: " + who(*a) + " did not answer raw-fence");
      continue;
    }
    for (const auto& sock : r["sockets"]) {
      const uint32_t mark = sock.value("mark", 0u);
      const std::string what = "a raw socket of " + who(*a) + " (" + sock.dump() + ")";
      if ((mark & flag) != flag || (mark & mask) != mark_of(*s.policy, it->second))
        out.push_back("isolation: " + what + " lost its flagged mark");
      if (sock.value("detach_errno", 0) != EPERM) out.push_back("isolation: " + what + " could detach its filter");
      if (sock.value("forged", true)) out.push_back("isolation: " + what + " sent a forged source address");
      if (!sock.value("allowed", false)) out.push_back("fence: " + what + ": its allowed datagram did not arrive");
    }
  }
}

// A uid's datagram into another slice's probe vif is dropped: the owner's, sent after it on
// the same route into the same device, arrives; nothing of the other's came before it.
void probe_vif_guards(const ProbeSubjects& s, Violations& out) {
  for (const auto& [vif, owner] : s.probe_vifs) {
    auto drained = owner->exchange({{"op", "tun-drain"}, {"name", vif}}, {"tun-seen"});
    if (!drained.value("held", false)) continue;  // netd deleted it meanwhile: nothing to probe
    const std::string far = probe_vif_address(s.slice_ids.at(owner->uid()), true);
    std::set<uid_t> others;
    std::map<std::string, uid_t> foreign;
    for (Agent* a : s.agents) {
      if (a->uid() == owner->uid() || !others.insert(a->uid()).second) continue;
      std::string payload = "guard-" + a->label() + "-" + std::to_string(s.cycle);
      foreign[payload] = a->uid();
      a->exchange({{"op", "udp-send"}, {"dst", far}, {"port", 9}, {"payload", payload}}, {"udp-send"});
    }
    std::string own = "guard-" + owner->label() + "-" + std::to_string(s.cycle);
    owner->exchange({{"op", "udp-send"}, {"dst", far}, {"port", 9}, {"payload", own}}, {"udp-send"});
    auto seen = owner->exchange({{"op", "tun-seen"}, {"name", vif}, {"until", own}}, {"tun-seen"});
    if (!seen.value("held", false)) continue;
    if (!seen.value("found", false))
      out.push_back("vif guard: " + who(*owner) + "'s own datagram did not reach its vif " + vif + ": " + seen.dump());
    for (const auto& p : seen.value("payloads", nlohmann::json::array())) {
      auto it = foreign.find(p.get<std::string>());
      if (it != foreign.end())
        out.push_back("isolation: uid " + std::to_string(it->second) + "'s datagram went out through " + vif +
                      ", a vif of " + who(*owner));
    }
  }
}

}  // namespace

std::string probe_vif_address(uint32_t slice_id, bool far_end) {
  return "10." + std::to_string(slice_id) + ".0." + (far_end ? "254" : "253/30");
}

std::vector<std::string> probe_isolation(const ProbeSubjects& subjects) {
  Violations out;
  probe_marks(subjects, out);
  probe_raw_receive(subjects, out);
  probe_raw_send(subjects, out);
  probe_vif_guards(subjects, out);
  return out;
}

}  // namespace netd::testing
