// Time budgets: a benchmark is sized by the seconds it may take (--seconds), not by a count of
// iterations, so it ends on time on any machine (a packet socket's close took 100 µs on one VM
// and 15 ms on another: a fixed count of them never finished there). A Budget shares the
// seconds out among the benchmark's phases as they start; a Phase is one loop's share.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace bench {

// The whole run's seconds, counted from its creation (set-up included), shared out as phases
// start: a phase gets (what is left − the reserve) × its weight / (its weight + the weights of the
// phases still to come), so a slow set-up or a phase that ran over leaves the later phases less
// time instead of making the run longer. The reserve is what the clean-up at the end needs.
class Budget {
 public:
  // phases: {name, weight} in the order they run; a skipped phase is simply left out.
  Budget(double seconds, std::vector<std::pair<std::string, double>> phases, double reserve_seconds = 2);

  double total() const { return seconds_; }
  double left() const;
  // The seconds of phase `name` (at least 1), taken out of the plan: call it when the phase
  // starts measuring (after its own set-up). An unknown name gets an even split of what is left.
  double share(const std::string& name);
  // A phase that will not run (skipped, or its set-up failed): the later ones get its time.
  void drop(const std::string& name);

 private:
  std::chrono::steady_clock::time_point start_;
  double seconds_;
  double reserve_;
  std::vector<std::pair<std::string, double>> plan_;
};

// One loop's share of a Budget: it runs until its seconds are spent and its samples reach the
// minimum a median needs to mean something, but no longer than kOverrun × its seconds (a machine
// too slow for the minimum gets a figure from fewer samples, and the report says so). An
// iteration is started only if it is expected (at the mean so far) to end within the share.
class Phase {
 public:
  static constexpr double kOverrun = 2;

  // Prints `# <name>: measuring, a X s share`.
  Phase(std::string name, double seconds, size_t min_samples);

  // Whether to run another iteration, `samples` being what the loop holds now (for a loop over
  // variants: the fewest any variant has). False once interrupted.
  bool more(size_t samples);
  double elapsed() const;
  double seconds() const { return seconds_; }
  size_t min_samples() const { return min_samples_; }
  // The absolute end of the share (for a child process that runs the loop itself).
  std::chrono::steady_clock::time_point deadline() const { return start_ + to_duration(seconds_); }
  // `# <name>: N samples per variant (minimum M) in X s of a Y s share` (+ a warning when short).
  void report(size_t samples) const;

  static std::chrono::steady_clock::duration to_duration(double seconds);

 private:
  std::string name_;
  std::chrono::steady_clock::time_point start_;
  double seconds_;
  size_t min_samples_;
  size_t iterations_ = 0;
};

// The loop of a forked client child that times calls to several servers ("kinds"):
// `rounds` rounds of one block per kind, the order rotating, each block running until its end
// (what is left of the share split evenly over the blocks still to run), so drift on the machine
// hits every kind alike; then more rounds of short blocks while fewest() (the samples of the
// kind that has fewest) is below min_samples, up to Phase::kOverrun × seconds. The share counts
// from `start`. A child has no interruption flag (its parent stops it with SIGTERM).
// run_block returns false to stop (a failure); so does an interruption (in a parent that drives
// the blocks itself).
void run_interleaved(std::chrono::steady_clock::time_point start, double seconds, int rounds, int kinds,
                     size_t min_samples, const std::function<size_t()>& fewest,
                     const std::function<bool(int kind, std::chrono::steady_clock::time_point until)>& run_block);

}  // namespace bench
