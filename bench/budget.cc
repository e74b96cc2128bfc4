#include "bench/budget.h"

#include <algorithm>

#include "bench/bench_support.h"

namespace bench {

using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

Budget::Budget(double seconds, std::vector<std::pair<std::string, double>> phases, double reserve_seconds)
    : start_(Clock::now()), seconds_(seconds), reserve_(reserve_seconds), plan_(std::move(phases)) {}

double Budget::left() const { return seconds_ - since(start_); }

double Budget::share(const std::string& name) {
  double weights = 0, mine = 0;
  auto it = std::find_if(plan_.begin(), plan_.end(), [&](const auto& p) { return p.first == name; });
  for (auto p = it == plan_.end() ? plan_.begin() : it; p != plan_.end(); ++p) weights += p->second;
  if (it != plan_.end()) {
    mine = it->second;
    plan_.erase(it);
  } else {
    mine = weights > 0 ? weights / static_cast<double>(plan_.size()) : 1;
    weights += mine;
  }
  double available = left() - reserve_;
  return std::max(1.0, weights > 0 ? available * mine / weights : available);
}

void Budget::drop(const std::string& name) {
  std::erase_if(plan_, [&](const auto& p) { return p.first == name; });
}

Phase::Phase(std::string name, double seconds, size_t min_samples)
    : name_(std::move(name)), start_(Clock::now()), seconds_(seconds), min_samples_(min_samples) {
  print_note(name_ + ": measuring, a " + fixed(seconds_, 1) + " s share");
}

Clock::duration Phase::to_duration(double seconds) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

double Phase::elapsed() const { return since(start_); }

bool Phase::more(size_t samples) {
  if (interrupted()) return false;
  double t = elapsed();
  size_t done = iterations_++;
  if (samples < min_samples_) return t < kOverrun * seconds_;
  double per_iteration = done > 0 ? t / static_cast<double>(done) : 0;
  return t + per_iteration <= seconds_;
}

void Phase::report(size_t samples) const {
  std::string text = name_ + ": " + std::to_string(samples) + " samples per variant (minimum " +
                     std::to_string(min_samples_) + ") in " + fixed(elapsed(), 1) + " s of a " + fixed(seconds_, 1) +
                     " s share";
  if (samples < min_samples_ && !interrupted()) text += "; SHORT of the minimum: this machine is too slow for the share";
  print_note(text);
}

void run_interleaved(Clock::time_point start, double seconds, int rounds, int kinds, size_t min_samples,
                     const std::function<size_t()>& fewest,
                     const std::function<bool(int, Clock::time_point)>& run_block) {
  const auto end = start + Phase::to_duration(seconds);
  rounds = std::max(1, rounds);
  for (int r = 0; r < rounds; ++r) {
    for (int k = 0; k < kinds; ++k) {
      int blocks_left = (rounds - r) * kinds - k;
      auto now = Clock::now();
      auto until = now + (end > now ? (end - now) / blocks_left : Clock::duration::zero());
      if (!run_block((r + k) % kinds, until) || interrupted()) return;  // rotating order
    }
  }
  // Short of the minimum (a slow machine): short blocks until it is reached or time runs out.
  const auto hard_end = start + Phase::to_duration(Phase::kOverrun * seconds);
  const auto block = Phase::to_duration(std::max(0.05, seconds / (rounds * kinds)));
  for (int r = 0; fewest() < min_samples && Clock::now() < hard_end; ++r)
    for (int k = 0; k < kinds; ++k)
      if (!run_block((r + k) % kinds, Clock::now() + block) || interrupted()) return;
}

}  // namespace bench
