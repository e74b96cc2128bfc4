#include "tools/flowmon/ipfix_monitor.h"

#include <poll.h>
#include <sys/timerfd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "lib/core/unique_fd.h"
#include "tools/common/errors.h"
#include "tools/common/call.h"
#include "tools/flowmon/flow_table.h"
#include "tools/flowmon/flowlog_reader.h"
#include "tools/flowmon/ipfix_export.h"
#include "tools/flowmon/monitor_loop.h"
#include "tools/flowmon/names_refresh.h"

namespace flowmon {

namespace {

namespace cli = netd::cli;

constexpr std::string_view kProgram = "netd-flowmon";
// NFLOG hands over a partial batch after its flush timeout (netd sets 10 ms): at a stop signal
// the socket is read until it has been quiet this long, so every packet logged before the
// signal is in a record.
constexpr int kStopQuietMs = 50;

uint64_t now_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::string seconds(uint64_t ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", static_cast<double>(ms) / 1000);
  return text;
}

class IpfixMonitor : public MonitorHandler {
 public:
  IpfixMonitor(const Options& options, int flowlog, MarkLayout layout, std::unique_ptr<IpfixExporter> exporter)
      : flowlog_(flowlog),
        layout_(layout),
        table_({.active_ms = options.active_timeout_ms, .idle_ms = options.idle_timeout_ms}),
        reader_(flowlog),
        exporter_(std::move(exporter)),
        collector_(options.ipfix->to_string()),
        udp_(options.ipfix->transport == Transport::kUdp),
        socket_option_(options.socket_path),
        template_interval_ms_(options.template_interval_ms) {}

  std::optional<int> readable() override {
    if (int error = drain(kReadsPerWakeup); error != 0) return fail("reading the flow log", error);
    return std::nullopt;
  }

  bool caught_up() const override { return reader_.emptied(); }

  std::optional<int> tick() override {
    uint64_t now = now_ms();
    send(table_.expire(now));
    if (now >= templates_sent_ + template_interval_ms_) {
      refresh_names();
      if (udp_) report(exporter_->send_templates());
      report(exporter_->send_statistics(ignored_));
      templates_sent_ = now;
    }
    return std::nullopt;
  }

  int stop() override {
    if (int error = drain_until_quiet(); error != 0) return fail("reading the flow log", error);
    // Over UDP the last records are readable by a collector that restarted.
    if (udp_) report(exporter_->send_templates());
    send(table_.flush());
    report(exporter_->send_statistics(ignored_));  // the final counts, after the last records
    summary();
    return 0;
  }

  int fail(const char* what, int error) override {
    summary();
    cli::print_error(kProgram, std::string(what) + ": " + std::strerror(error));
    return cli::kExitFailed;
  }

 private:
  int drain(int max_reads) {
    uint64_t now = now_ms();
    int error = reader_.drain(max_reads, [&](const LoggedPacket& packet) {
      if (auto id = flow_of(packet, layout_)) table_.add(*id, packet.length(), packet.header->tcp_flags, now);
    });
    overruns_ += reader_.take_overruns();
    if (uint64_t lost = reader_.take_lost(); lost != 0) {
      if (ignored_.packets == 0) ignored_.first_ms = now_ms();
      ignored_.last_ms = now_ms();
      ignored_.packets += lost;
    }
    return error;
  }

  int drain_until_quiet() {
    pollfd fd{flowlog_, POLLIN, 0};
    for (int rounds = 0; rounds < kReadsWhenStopping / kReadsPerWakeup; ++rounds) {
      if (int error = drain(kReadsPerWakeup); error != 0) return error;
      int ready = poll(&fd, 1, kStopQuietMs);
      if (ready < 0 && errno != EINTR) return errno;
      if (ready == 0) break;
    }
    return 0;
  }

  // The slices' names as netd has them now (a reload may have added some); on failure the
  // names so far stay, and the reason is printed once.
  void refresh_names() {
    auto names = ask_slice_names(socket_option_);
    if (names.ok()) {
      exporter_->set_names(std::move(names).value());
      names_error_.clear();
      return;
    }
    if (names.error().message == names_error_) return;
    names_error_ = names.error().message;
    cli::print_error(kProgram, "keeping the slice names netd gave before: " + names_error_);
  }

  void send(const std::vector<FlowRecord>& records) {
    if (!records.empty()) report(exporter_->send(records));
  }

  // A failed send, once per distinct message (a collector that is away fails every send).
  void report(const netd::Status& status) {
    if (status.ok() || status.error().message == last_error_) return;
    last_error_ = status.error().message;
    cli::print_error(kProgram, collector_ + ": " + last_error_);
  }

  void summary() {
    const ExportStats& s = exporter_->stats();
    cli::print_error(kProgram, "exported " + std::to_string(s.records) + " flow records to " + collector_ + ", " +
                                   std::to_string(s.lost) + " lost, " + std::to_string(overruns_) +
                                   " flow log overruns (" + std::to_string(ignored_.packets) + " packets dropped)");
  }

  int flowlog_;
  MarkLayout layout_;
  FlowTable table_;
  FlowLogReader reader_;
  std::unique_ptr<IpfixExporter> exporter_;
  std::string collector_;
  std::string last_error_;
  bool udp_;
  std::string socket_option_;  // --socket, for asking netd for the names again
  std::string names_error_;
  uint64_t template_interval_ms_;
  uint64_t overruns_ = 0;
  IgnoredPackets ignored_;  // packets the flow log dropped, for the statistics record
  uint64_t templates_sent_ = now_ms();
};

// Expiry is checked at ticks of half the shorter timeout, 0.1 s to 1 s.
netd::Result<netd::UniqueFd> tick_timer(const Options& options) {
  uint64_t tick_ms = std::clamp<uint64_t>(std::min(options.idle_timeout_ms, options.active_timeout_ms) / 2, 100, 1000);
  netd::UniqueFd fd(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!fd.valid()) return netd::errno_error("timerfd_create");
  itimerspec spec{};
  spec.it_interval.tv_sec = static_cast<time_t>(tick_ms / 1000);
  spec.it_interval.tv_nsec = static_cast<long>(tick_ms % 1000) * 1000000;
  spec.it_value = spec.it_interval;
  if (timerfd_settime(fd.get(), 0, &spec, nullptr) < 0) return netd::errno_error("timerfd_settime");
  return fd;
}

}  // namespace

int run_ipfix_monitor(const Options& options, int flowlog, MarkLayout layout, SliceNames names, int signals) {
  auto exporter = IpfixExporter::open(*options.ipfix, 0, std::move(names));
  if (!exporter.ok()) {
    cli::print_error(kProgram, options.ipfix->to_string() + ": " + exporter.error().message);
    return cli::kExitFailed;
  }
  auto timer = tick_timer(options);
  if (!timer.ok()) {
    cli::print_error(kProgram, timer.error().message);
    return cli::kExitFailed;
  }
  IpfixMonitor monitor(options, flowlog, layout, std::move(exporter).value());
  // One line once the flow log is ours: from here on every logged packet is in a record.
  cli::print_stdout("exporting flow records to " + options.ipfix->to_string() + " over " +
                    std::string(transport_name(options.ipfix->transport)) + " (active timeout " +
                    seconds(options.active_timeout_ms) + " s, idle timeout " + seconds(options.idle_timeout_ms) +
                    " s)\n");
  std::fflush(stdout);
  return run_monitor_loop(flowlog, timer->get(), signals, monitor);
}

}  // namespace flowmon
