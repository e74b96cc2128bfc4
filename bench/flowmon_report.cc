#include "bench/flowmon_report.h"

#include <algorithm>
#include <string>

#include "bench/bench_support.h"

namespace bench {

namespace {

// CPU seconds per million packets (the same number as µs per packet).
double per_mpkt(double cpu_s, double packets) { return packets > 0 ? cpu_s / packets * 1e6 : 0; }

// The packets a probe's CPU went to: what it accounted for, or (if it said nothing) what was sent.
double probe_packets(const FlowRun& r) { return r.processed > 0 ? r.processed : r.sent + r.markers; }

double probe_per_mpkt(const FlowRun& r) { return per_mpkt(r.probe_cpu_s, probe_packets(r)); }

std::string step_label(int pps) { return pps == 0 ? "max" : std::to_string(pps / 1000) + "k"; }

// "1 234 567": rates and counts in notes and verdicts.
std::string grouped(double v) {
  std::string digits = std::to_string(static_cast<long long>(v + 0.5));
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<size_t>(i), " ");
  return digits;
}

std::optional<size_t> index_of(const std::vector<ProbeKind>& probes, ProbeKind kind) {
  auto it = std::find(probes.begin(), probes.end(), kind);
  return it == probes.end() ? std::nullopt : std::optional<size_t>(static_cast<size_t>(it - probes.begin()));
}

}  // namespace

void report_cpu(const std::vector<ProbeKind>& probes, const std::vector<std::vector<FlowRun>>& runs, int pps,
                int flows) {
  std::vector<double> median(probes.size());
  for (size_t p = 0; p < probes.size(); ++p) {
    std::vector<double> cpu, rate;
    double lost = 0;
    for (const FlowRun& r : runs[p]) {
      cpu.push_back(probe_per_mpkt(r));
      rate.push_back(r.sent / r.send_s);
      lost += r.sent - r.counted;
    }
    const std::string name = std::string("flowmon.cpu.") + probe_id(probes[p]);
    median[p] = stats_of(cpu).median;
    print_figure(name + ".sent_pps", stats_of(rate).median, "1/s");
    print_figure(name + ".cpu_per_mpkt", median[p], "s");
    print_figure(name + ".cpu_per_mpkt.min", *std::min_element(cpu.begin(), cpu.end()), "s");
    print_figure(name + ".cpu_per_mpkt.max", *std::max_element(cpu.begin(), cpu.end()), "s");
    print_figure(name + ".lost", lost, "packets");
    print_samples(name, runs[p].size());
    if (lost != 0)
      print_note("cpu: " + std::string(probe_name(probes[p])) + " lost packets at " + grouped(pps) +
                 " pps: its CPU is per packet it accounted for");
  }
  auto flowmon = index_of(probes, ProbeKind::kFlowmon), softflowd = index_of(probes, ProbeKind::kSoftflowd);
  if (!flowmon || !softflowd) return;
  std::vector<double> paired;  // round by round: neighbours in time, so the machine's load hits both
  for (size_t i = 0; i < std::min(runs[*flowmon].size(), runs[*softflowd].size()); ++i)
    paired.push_back(probe_per_mpkt(runs[*flowmon][i]) / probe_per_mpkt(runs[*softflowd][i]));
  double ratio = stats_of(paired).median;
  print_figure("flowmon.cpu.ratio_paired_median", ratio, "x");
  print_figure("flowmon.cpu.ratio_paired_min", *std::min_element(paired.begin(), paired.end()), "x");
  print_figure("flowmon.cpu.ratio_paired_max", *std::max_element(paired.begin(), paired.end()), "x");
  print_figure("flowmon.cpu.ratio_median", median[*flowmon] / median[*softflowd], "x");
  print_comparison("flowmon.cpu_per_mpkt ratio " + fixed(ratio) +
                   " (netd-flowmon / softflowd, paired median): " + fixed(median[*flowmon]) + " s against " +
                   fixed(median[*softflowd]) + " s of the probe's own CPU per million uplink packets at " +
                   grouped(pps) + " pps over " + std::to_string(flows) + " flows");
}

void report_overrun(const std::vector<ProbeKind>& probes, const std::vector<std::vector<FlowRun>>& runs,
                    const std::array<int, 5>& steps, const std::optional<FlowRun>& none) {
  std::vector<std::optional<double>> kernel(probes.size());  // per million packets
  std::string verdict;
  for (size_t p = 0; p < probes.size(); ++p) {
    const std::string id = probe_id(probes[p]);
    std::optional<size_t> first_loss;
    double fastest = 0;
    for (size_t i = 0; i < runs[p].size(); ++i) {
      const FlowRun& r = runs[p][i];
      const std::string name = "flowmon.overrun." + id + "." + step_label(steps[i]);
      double rate = r.sent / r.send_s, lost = r.sent - r.counted;
      fastest = std::max(fastest, rate);
      print_figure(name + ".sent_pps", rate, "1/s");
      print_figure(name + ".sent", r.sent, "packets");
      print_figure(name + ".lost", lost, "packets");
      print_figure(name + ".lost_share", lost / r.sent * 100, "%");
      if (probes[p] == ProbeKind::kFlowmon)
        print_figure(name + ".overruns", r.overruns, "events");
      else
        print_figure(name + ".ring_drops", r.overruns, "packets");
      if (!first_loss && (lost > 0 || r.overruns > 0)) first_loss = i;
      if (steps[i] == 0) {
        print_figure(name + ".sender_per_mpkt", per_mpkt(r.sender_cpu_s, r.sent), "s");
        if (none) kernel[p] = per_mpkt(r.sender_cpu_s, r.sent) - per_mpkt(none->sender_cpu_s, none->sent);
      }
    }
    std::string said = std::string(probe_name(probes[p])) + " ";
    if (first_loss) {
      const FlowRun& r = runs[p][*first_loss];
      print_figure("flowmon.overrun." + id + ".first_loss_pps", r.sent / r.send_s, "1/s");
      said += "first loses packets at the " + step_label(steps[*first_loss]) + " step (" + grouped(r.sent / r.send_s) +
              " pps sent, " + fixed((r.sent - r.counted) / r.sent * 100) + " % lost, " + grouped(r.overruns) +
              (probes[p] == ProbeKind::kFlowmon ? " overruns)" : " ring drops)");
    } else {
      print_figure("flowmon.overrun." + id + ".no_loss_up_to_pps", fastest, "1/s");
      said += "loses nothing up to " + grouped(fastest) + " pps" +
              (runs[p].size() == steps.size() && steps.back() == 0 ? " (alice's maximum with it running)" : "");
    }
    verdict += (verdict.empty() ? "" : "; ") + said;
  }
  if (none) {
    print_figure("flowmon.overrun.none.max.sent_pps", none->sent / none->send_s, "1/s");
    print_figure("flowmon.overrun.none.max.sender_per_mpkt", per_mpkt(none->sender_cpu_s, none->sent), "s");
    verdict += "; alice alone reaches " + grouped(none->sent / none->send_s) + " pps";
  }
  // What the tap costs where the packet is sent: NFLOG copies 128 bytes of each into a netlink
  // message, AF_PACKET copies the frame into the ring, both in the sending process's context.
  bool any = false;
  for (size_t p = 0; p < probes.size(); ++p)
    if (kernel[p]) {
      print_figure(std::string("flowmon.kernel.") + probe_id(probes[p]) + ".per_mpkt", *kernel[p], "s");
      any = true;
    }
  if (any)
    print_note(
        "overrun: flowmon.kernel.* = alice's CPU per packet at full speed with the probe against without, one "
        "run each: rough, it moves with the machine's load as much as it differs between the probes");
  if (!verdict.empty()) print_comparison("flowmon.overrun " + verdict);
}

}  // namespace bench
