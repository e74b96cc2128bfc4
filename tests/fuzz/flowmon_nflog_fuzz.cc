// netd-flowmon's reading of the flow log (tools/flowmon): the input as one recv() from the
// NFLOG socket (parse_nflog), and as a logged packet's bytes (parse_packet); the packets are
// counted (Tally, with flows) and the report printed as text and JSON. The packet bytes are
// whatever a slice sent, so nothing in them may crash or mislead the monitor.
//
// Checked beyond memory safety and UB: a parsed header's addresses are of one family, the
// one its version says; the report counts every packet parse_nflog returned.
#include <cstdint>
#include <span>

#include "tests/fuzz/fuzz_check.h"
#include "tools/flowmon/nflog.h"
#include "tools/flowmon/packet.h"
#include "tools/flowmon/print.h"
#include "tools/flowmon/tally.h"

using netd::fuzz::check;

namespace {

void check_header(std::span<const uint8_t> bytes, const flowmon::PacketHeader& h) {
  check(h.src.family() == h.dst.family(), "source and destination of different families");
  int version = bytes.empty() ? 0 : bytes[0] >> 4;
  check((version == 4 && h.src.is_v4()) || (version == 6 && h.src.family() == AF_INET6),
        "a header whose family is not its version");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  if (auto header = flowmon::parse_packet(bytes)) check_header(bytes, *header);

  flowmon::Tally tally({0x0fff0000, 16}, /*keep_flows=*/true);
  uint64_t logged = 0;
  for (const auto& packet : flowmon::parse_nflog(bytes)) {
    tally.add(packet);
    ++logged;
  }
  flowmon::Report report = tally.take();
  uint64_t counted = 0;
  for (const auto& [slice, traffic] : report.slices) counted += traffic.in.packets + traffic.out.packets;
  check(counted == logged, "the report counts " + std::to_string(counted) + " of " + std::to_string(logged) +
                               " packets");
  flowmon::ReportInfo info{1, 1700000000.0, 1.0, 0};
  (void)flowmon::report_text(report, info, true);
  (void)flowmon::report_json(report, info, true);
  return 0;
}
