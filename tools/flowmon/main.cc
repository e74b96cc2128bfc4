// netd-flowmon: a small example monitor on netd's flow log. Asks netd for the monitor slice's
// NFLOG socket (io.netd.Sockets.FlowLog), reads the logged packets, and every --interval prints
// packets and bytes in and out per slice (and per flow with --flows), or with --ipfix sends
// flow records to a collector (ipfix_monitor.cc). One poll loop over the
// socket, a timerfd and a signalfd; SIGINT and SIGTERM end it after a last report of what was
// queued. Exit status as sliceip's: 0 ok (--count reached, SIGINT, SIGTERM), 1 usage, 2 refused
// or failed. The only place that exits.
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tools/common/call.h"
#include "tools/common/outcome.h"
#include "tools/common/reply.h"
#include "tools/flowmon/flowlog_reader.h"
#include "tools/flowmon/ipfix_monitor.h"
#include "tools/flowmon/monitor_loop.h"
#include "tools/flowmon/options.h"
#include "tools/flowmon/print.h"
#include "tools/flowmon/slice_names.h"
#include "tools/flowmon/tally.h"

namespace {

namespace cli = netd::cli;

constexpr std::string_view kProgram = "netd-flowmon";

cli::ErrorReport describe_error(std::string_view error_name, const nlohmann::json& parameters) {
  return cli::describe_error(kProgram, cli::ErrorLabels::kShown, error_name, parameters);
}

struct FlowLog {
  netd::UniqueFd socket;
  flowmon::MarkLayout layout;
  flowmon::SliceNames names;  // the slices as of the call, for --ipfix's VRFname
};

// The FlowLog call; on failure the reason is printed and the exit status returned.
cli::Outcome<FlowLog> open_flowlog(const flowmon::Options& options) {
  cli::CallOutcome outcome = cli::call_netd(kProgram, options.socket_path, "io.netd.Sockets.FlowLog",
                                            nlohmann::json::object(), describe_error);
  if (!outcome.ok()) return cli::ExitCode{outcome.exit_code()};
  netd::Reply& reply = *outcome;
  const auto* mask = cli::integer_field(reply.parameters, "mark_mask");
  const auto* shift = cli::integer_field(reply.parameters, "mark_shift");
  if (reply.fds.size() != 1 || mask == nullptr || shift == nullptr || shift->get<int64_t>() < 0 ||
      shift->get<int64_t>() > 31) {
    cli::print_error(kProgram, cli::bad_reply("FlowLog needs one fd, mark_mask and mark_shift 0..31").message);
    return cli::ExitCode{cli::kExitFailed};
  }
  auto names = flowmon::SliceNames::from_reply(reply.parameters);
  if (!names.ok()) {
    cli::print_error(kProgram, names.error().message);
    return cli::ExitCode{cli::kExitFailed};
  }
  return FlowLog{std::move(reply.fds.front()),
                 {static_cast<uint32_t>(mask->get<int64_t>()), static_cast<int>(shift->get<int64_t>())},
                 std::move(names).value()};
}

// SIGINT and SIGTERM as a readable fd (blocked, so they end the loop instead of the process).
netd::Result<netd::UniqueFd> stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (sigprocmask(SIG_BLOCK, &set, nullptr) < 0) return netd::errno_error("sigprocmask");
  netd::UniqueFd fd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd.valid()) return netd::errno_error("signalfd");
  return fd;
}

netd::Result<netd::UniqueFd> interval_timer(uint32_t interval_ms) {
  netd::UniqueFd fd(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!fd.valid()) return netd::errno_error("timerfd_create");
  itimerspec spec{};
  spec.it_interval.tv_sec = interval_ms / 1000;
  spec.it_interval.tv_nsec = static_cast<long>(interval_ms % 1000) * 1000000;
  spec.it_value = spec.it_interval;
  if (timerfd_settime(fd.get(), 0, &spec, nullptr) < 0) return netd::errno_error("timerfd_settime");
  return fd;
}

double wall_clock() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class Monitor : public flowmon::MonitorHandler {
 public:
  Monitor(const flowmon::Options& options, FlowLog log)
      : options_(options), log_(std::move(log)), tally_(log_.layout, options.flows), reader_(log_.socket.get()) {}

  // Until --count reports are out or a stop signal arrives: 0, else 2 once the reason is printed.
  int run(int timer, int signals) {
    started_ = std::chrono::steady_clock::now();
    return flowmon::run_monitor_loop(log_.socket.get(), timer, signals, *this);
  }

  std::optional<int> readable() override {
    if (int error = drain(flowmon::kReadsPerWakeup); error != 0) return fail("reading the flow log", error);
    return std::nullopt;
  }

  bool caught_up() const override { return reader_.emptied(); }

  std::optional<int> tick() override {
    auto now = std::chrono::steady_clock::now();
    report(std::chrono::duration<double>(now - started_).count());
    started_ = now;
    if (options_.count != 0 && reports_ == options_.count) return 0;
    return std::nullopt;
  }

  // Stopped: what the kernel had already delivered still counts, in a last report.
  int stop() override {
    if (int error = drain(flowmon::kReadsWhenStopping); error != 0) return fail("reading the flow log", error);
    report(std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
    return 0;
  }

  int fail(const char* what, int error) override {
    cli::print_error(kProgram, std::string(what) + ": " + std::strerror(error));
    return cli::kExitFailed;
  }

 private:
  int drain(int max_reads) {
    return reader_.drain(max_reads, [this](const flowmon::LoggedPacket& packet) { tally_.add(packet); });
  }

  void report(double seconds) {
    flowmon::ReportInfo info{
        .number = ++reports_,
        .time = wall_clock(),
        .seconds = seconds,
        .overruns = reader_.take_overruns(),
        .lost = reader_.take_lost()};
    flowmon::Report r = tally_.take();
    cli::print_stdout(options_.json ? flowmon::report_json(r, info, options_.flows)
                                    : flowmon::report_text(r, info, options_.flows));
    std::fflush(stdout);
  }

  const flowmon::Options& options_;
  FlowLog log_;
  flowmon::Tally tally_;
  flowmon::FlowLogReader reader_;
  uint64_t reports_ = 0;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> words(argv + 1, argv + argc);
  auto options = flowmon::parse_command_line(words);
  if (!options.ok()) {
    cli::print_error(kProgram, options.error().message);
    return cli::kExitUsage;
  }
  if (options->help) {
    cli::print_stdout(flowmon::usage_text());
    return 0;
  }
  // A TCP collector that went away makes libfixbuf's write fail with EPIPE, reported and retried,
  // instead of killing the probe.
  signal(SIGPIPE, SIG_IGN);
  auto signals = stop_signals();  // before the call: a SIGINT right after it must not lose the fd's state
  if (!signals.ok()) {
    cli::print_error(kProgram, signals.error().message);
    return cli::kExitFailed;
  }
  auto log = open_flowlog(*options);
  if (!log.ok()) return log.exit_code();
  if (options->ipfix)
    return flowmon::run_ipfix_monitor(*options, log->socket.get(), log->layout, std::move(log->names), signals->get());
  auto timer = interval_timer(options->interval_ms);
  if (!timer.ok()) {
    cli::print_error(kProgram, timer.error().message);
    return cli::kExitFailed;
  }
  Monitor monitor(*options, std::move(log).value());
  return monitor.run(timer->get(), signals->get());
}
