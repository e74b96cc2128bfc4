// Chaos: netd is SIGKILLed at random points of a mixed workload (routes, vifs, raw socket
// handouts, shaping, policy reloads between the variants of workload.h) sent concurrently by
// slice members (alice twice, bob twice, dave where a variant gives him bob's id), a
// non-member and the admin, and restarted each time (one restart in four is itself killed
// while netd reconciles); after every restart the kernel invariants
// (tests/integration/common/invariants.h) and the isolation probes (isolation_probes.h) must
// hold. The kill points are counts of requests sent ("after the k-th request of this round
// reached netd's socket"), drawn from a seeded generator, as is each client's sequence of
// requests; the seed is printed, and NETD_CHAOS_SEED=<seed> replays them (the threads'
// interleaving is the machine's). NETD_CHAOS_KILLS sets the number of kill/restart rounds (100
// by default); NETD_CHAOS_VERBOSE=1 prints each round and the refusal reasons.
// One variant gives bob's id to dave: its kills fall between the new policy file and its
// reload as often as anywhere, so restarts see ids handed over (state_dir/slice-ids).
#include <gmock/gmock.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "netd/policy/loader.h"
#include "tests/fixtures/eventually.h"
#include "tests/integration/chaos/isolation_probes.h"
#include "tests/integration/chaos/workload.h"
#include "tests/integration/common/invariants.h"
#include "tests/integration/common/testbed_test.h"

namespace netd::testing {
namespace {

using namespace std::chrono_literals;

constexpr uid_t kDave = 1004;  // a member only where the policy gives him bob's id

uint64_t env_number(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 0) : fallback;
}

// What the clients got, per kind of request.
struct Tally {
  struct Counts {
    size_t sent = 0, ok = 0, refused = 0, cut = 0, unreachable = 0;
    std::map<std::string, size_t> reasons;  // of refusals
  };
  std::map<std::string, Counts> by_label;
  size_t spared = 0;  // steps naming a probe vif, left out

  void add(const std::string& label, const nlohmann::json& reply) {
    Counts& c = by_label[label];
    if (reply.value("event", "") == "unreachable")
      ++c.unreachable;
    else if (reply.value("closed", false))
      ++c.cut, ++c.sent;
    else if (reply.contains("reply") && reply["reply"].contains("error")) {
      ++c.refused, ++c.sent;
      ++c.reasons[reply["reply"].value("parameters", nlohmann::json::object()).value("reason", "?").substr(0, 90)];
    } else
      ++c.ok, ++c.sent;
  }
  void merge(const Tally& other) {
    for (const auto& [label, o] : other.by_label) {
      Counts& c = by_label[label];
      c.sent += o.sent, c.ok += o.ok, c.refused += o.refused, c.cut += o.cut, c.unreachable += o.unreachable;
      for (const auto& [why, n] : o.reasons) c.reasons[why] += n;
    }
    spared += other.spared;
  }
  std::string describe(bool reasons) const {
    std::string out;
    for (const auto& [label, c] : by_label) {
      out += "  " + label + ": sent " + std::to_string(c.sent) + " (ok " + std::to_string(c.ok) + ", refused " +
             std::to_string(c.refused) + ", cut by a kill " + std::to_string(c.cut) + "), netd down " +
             std::to_string(c.unreachable) + "\n";
      if (reasons)
        for (const auto& [why, n] : c.reasons) out += "      " + std::to_string(n) + "x " + why + "\n";
    }
    return out;
  }
};

// One client: an agent and the sequence of requests it sends.
struct Client {
  Agent agent;
  Workload workload;
  uint32_t slice_id = 0;  // 0: not a member of any variant
};

class Chaos : public TestbedTest {
 protected:
  TestbedOptions testbed_options() const override {
    TestbedOptions o;
    o.start_netd = false;  // on the chaos policy, written first
    return o;
  }

  // Runs every client's workload until the k-th request of this round reached netd, kills
  // netd there (SIGKILL), and returns once every client has its answer (or its cut).
  void run_round_and_kill(uint64_t k) {
    std::mutex m;
    std::condition_variable cv;
    uint64_t sent = 0;
    std::atomic<bool> stop{false};
    std::vector<std::thread> workers;
    for (auto& client : clients_) {
      workers.emplace_back([&, c = &client] {
        Tally local;
        while (!stop) {
          Step step = c->workload.next();
          if (!step.vif_name.empty() && probe_names_.count(step.vif_name)) {
            ++local.spared;
            continue;
          }
          if (step.kind == Step::Kind::kClose) {
            c->agent.exchange(step.command, {"closed"});
            continue;
          }
          if (step.kind == Step::Kind::kReload) {
            (void)bed_->write_policy(chaos_policy(*bed_, step.variant));
            variant_in_file_ = step.variant;
          }
          auto reply = c->agent.call(step.method, step.parameters, step.keep, [&] {
            std::lock_guard lock(m);
            ++sent;
            cv.notify_all();
          });
          local.add(step.label, reply);
          if (reply.is_null()) break;  // the agent is gone: the checks will say so
        }
        std::lock_guard lock(m);
        tally_.merge(local);
      });
    }
    {
      std::unique_lock lock(m);
      bool reached = cv.wait_for(lock, 120s, [&] { return sent >= k; });
      EXPECT_TRUE(reached) << "the workload stalled before request " << k << " of the round";
    }
    // No client starts another request; those in flight are cut by the kill.
    stop = true;
    netd_died_ = netd_exited_on_its_own();
    bed_->kill_netd(SIGKILL);
    for (auto& w : workers) w.join();
    requests_ += sent;
  }

  bool netd_exited_on_its_own() const {
    std::ifstream stat("/proc/" + std::to_string(bed_->netd_pid()) + "/stat");
    std::string pid, comm, state;
    return !(stat >> pid >> comm >> state) || state == "Z";
  }

  // The probe vif of each slice in force, made again where netd deleted it (its slice left
  // the policy) or where it never was.
  void ensure_probe_vifs(const policy::Policy& policy) {
    probe_names_.clear();
    probe_owners_.clear();
    for (auto& client : clients_) {
      if (client.slice_id == 0 || client.agent.label().back() != '0') continue;  // alice0, bob0, dave0
      const policy::SliceSpec* slice = policy.find_member(client.agent.uid(), client.agent.uid(), {});
      if (slice == nullptr || slice->id != client.slice_id) continue;
      auto held = client.agent.exchange({{"op", "held"}}, {"held"});
      std::string name;
      if (!held.value("probes", nlohmann::json::array()).empty()) name = held["probes"][0];
      if (name.empty()) {
        nlohmann::json params = {{"kind", "tun"},
                                 {"up", true},
                                 {"persist", false},
                                 {"addresses", {{{"address", probe_vif_address(client.slice_id, false)}}}}};
        auto r = client.agent.call("io.netd.Vifs.Add", params, true, {}, true);
        ASSERT_TRUE(r.contains("reply") && r["reply"].contains("parameters")) << client.agent.label() << ": " << r;
        name = r["reply"]["parameters"]["vif"]["name"];
      }
      probe_names_.insert(name);
      probe_owners_[name] = &client.agent;
    }
  }

  void fail(const std::string& what, const std::vector<std::string>& violations, uint64_t round, uint64_t k) {
    std::string list;
    for (const auto& v : violations) list += "  " + v + "\n";
    std::string log = bed_->netd_log();
    if (log.size() > 4000) log = "..." + log.substr(log.size() - 4000);
    ADD_FAILURE() << what << " after kill " << round + 1 << " (at request " << k << " of its round; the policy file "
                  << "holds variant " << variant_in_file_ << "), seed " << seed_ << " (NETD_CHAOS_SEED=" << seed_
                  << " replays it):\n"
                  << list << "netd's log (end):\n"
                  << log;
  }

  uint64_t seed_ = 0;
  std::vector<Client> clients_;
  std::set<std::string> probe_names_;
  std::map<std::string, Agent*> probe_owners_;
  Tally tally_;
  uint64_t requests_ = 0;
  bool netd_died_ = false;
  std::atomic<size_t> variant_in_file_{0};
  size_t interrupted_ = 0;  // restarts killed while netd reconciled
};

TEST_F(Chaos, RandomKillsKeepIsolationAndLeaveNoOrphan) {
  seed_ = env_number("NETD_CHAOS_SEED", std::random_device{}());
  const uint64_t kills = env_number("NETD_CHAOS_KILLS", 100);
  const bool verbose = env_number("NETD_CHAOS_VERBOSE", 0) != 0;
  const size_t variants = kPolicyVariants;
  std::cout << "chaos: seed " << seed_ << " (NETD_CHAOS_SEED to replay), " << kills << " kills, policy variants 0-"
            << variants - 1 << std::endl;
  std::mt19937_64 rng(seed_);
  const auto started = std::chrono::steady_clock::now();

  ASSERT_OK(bed_->write_policy(chaos_policy(*bed_, 0)));
  ASSERT_OK(bed_->start_netd());
  struct Spec {
    uid_t uid;
    const char* label;
    Workload::Role role;
    uint32_t slice;
  } specs[] = {{kAlice, "alice0", Workload::Role::kMember, 7}, {kAlice, "alice1", Workload::Role::kMember, 7},
               {kBob, "bob0", Workload::Role::kMember, 8},     {kBob, "bob1", Workload::Role::kMember, 8},
               {kDave, "dave0", Workload::Role::kMember, 8},   {kCarol, "carol0", Workload::Role::kNonMember, 0},
               {0, "admin0", Workload::Role::kAdmin, 0}};
  for (size_t i = 0; i < std::size(specs); ++i) {
    auto agent = Agent::spawn(*bed_, specs[i].uid, specs[i].label);
    ASSERT_OK(agent);
    clients_.push_back({std::move(agent).value(),
                        Workload(seed_ * 1000003 + i, specs[i].role, specs[i].slice, variants), specs[i].slice});
  }
  ProbeSubjects subjects;
  for (auto& c : clients_) {
    if (c.agent.uid() != 0) subjects.agents.push_back(&c.agent);
    if (c.slice_id != 0) subjects.slice_ids[c.agent.uid()] = c.slice_id;
  }

  for (uint64_t round = 0; round < kills; ++round) {
    const uint64_t k = 1 + rng() % 48;
    run_round_and_kill(k);
    if (netd_died_) return fail("netd exited by itself", {}, round, k);
    // One restart in four is killed too, while netd brings the kernel in line: once it holds
    // `fds` descriptors (it opens them step by step as it adopts and loads).
    if (rng() % 4 == 0) {
      const size_t fds = 4 + rng() % 50;  // a served netd holds about 57
      ASSERT_OK(bed_->launch_netd());
      eventually([&] { return bed_->netd_fds() >= fds || netd_exited_on_its_own(); }, 60s, 0ms);
      if (verbose) std::cout << "restart killed at " << bed_->netd_fds() << " fds (wanted " << fds << ")\n";
      bed_->kill_netd(SIGKILL);
      ++interrupted_;
    }
    if (auto started_again = bed_->start_netd(); !started_again.ok())
      return fail("netd did not start again", {started_again.error().message}, round, k);
    auto policy = policy::load_policy(bed_->policy_path());
    ASSERT_OK(policy);
    ensure_probe_vifs(*policy);
    if (HasFatalFailure()) return;

    InvariantOptions options;
    options.probe_tagging = false;  // the agents' sockets tell (probe_isolation)
    auto violations = settled_invariants(*bed_, *policy, options);
    subjects.policy = &*policy;
    subjects.probe_vifs = probe_owners_;
    subjects.cycle = static_cast<int>(round);
    auto isolation = probe_isolation(subjects);
    violations.insert(violations.end(), isolation.begin(), isolation.end());
    if (!violations.empty()) return fail("invariants broken", violations, round, k);
    if (verbose) {
      std::cout << "round " << round << " k " << k << " fds " << bed_->netd_fds() << " probe vifs "
                << probe_names_.size();
      for (auto* a : subjects.agents)
        std::cout << " " << a->label() << ":" << a->exchange({{"op", "held"}}, {"held"}).dump();
      std::cout << std::endl;
    }
  }
  const auto took = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);
  std::cout << "chaos: " << kills << " kills and restarts (and " << interrupted_ << " restarts killed while netd "
            << "reconciled), " << requests_ << " requests reached netd, " << tally_.spared
            << " steps spared the probe vifs, " << took.count() << " s\n"
            << tally_.describe(verbose) << std::flush;
}

}  // namespace
}  // namespace netd::testing
