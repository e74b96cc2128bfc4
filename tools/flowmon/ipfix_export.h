// IPFIX (RFC 7011) export of finished flow records over UDP with libfixbuf: one template for
// IPv4 flows and one for IPv6, each carrying the slice id as ingressVRFID (IE 234) and the
// direction across the uplink as flowDirection (IE 61), then the slice's name as VRFname
// (IE 236, a variable-length string, "" for no slice's traffic). The fields before VRFname
// are as they were before it came, so a collector that skips IE 236 reads the same values.
// libfixbuf's GErrors become Results.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "lib/core/result.h"
#include "tools/flowmon/collector.h"
#include "tools/flowmon/flow_table.h"
#include "tools/flowmon/slice_names.h"

namespace flowmon {

// What an exporter has sent, for the monitor's own statistics.
struct ExportStats {
  uint64_t records = 0;   // handed to the collector's socket
  uint64_t lost = 0;      // not sent: the message they were in failed
};

class IpfixExporter {
 public:
  // Template ids of the two record layouts.
  static constexpr uint16_t kTemplateV4 = 256;
  static constexpr uint16_t kTemplateV6 = 257;

  // Allocates the session and the UDP exporter (libfixbuf connects at the first message) and
  // sends the templates. `names` give each record's VRFname.
  static netd::Result<std::unique_ptr<IpfixExporter>> open(const Collector& collector,
                                                           uint32_t observation_domain, SliceNames names = {});
  ~IpfixExporter();
  IpfixExporter(const IpfixExporter&) = delete;
  IpfixExporter& operator=(const IpfixExporter&) = delete;

  // The records, in as few messages as fit, sent now. On a failure the records of the failed
  // message are counted lost and the error returned; the exporter goes on with the next call.
  netd::Status send(std::span<const FlowRecord> records);
  // The templates again: a UDP collector that restarted learns them this way (RFC 7011 10.3.6).
  netd::Status send_templates();
  const ExportStats& stats() const { return stats_; }

 private:
  struct Handles;
  IpfixExporter(std::unique_ptr<Handles> handles, SliceNames names);
  netd::Status append(const FlowRecord& record);
  netd::Status emit(uint64_t records_in_message);

  std::unique_ptr<Handles> handles_;
  SliceNames names_;
  ExportStats stats_;
  uint16_t current_template_ = 0;
  uint64_t pending_ = 0;  // records appended since the last emit
};

}  // namespace flowmon
