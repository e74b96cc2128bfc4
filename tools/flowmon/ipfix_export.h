// IPFIX (RFC 7011) export of finished flow records over UDP or TCP with libfixbuf: one template
// for IPv4 flows and one for IPv6, each carrying the slice id as ingressVRFID (IE 234) and the
// direction across the uplink as flowDirection (IE 61), then the slice's name as VRFname
// (IE 236, a variable-length string, "" for no slice's traffic). The fields before VRFname
// are as they were before it came, so a collector that skips IE 236 reads the same values.
// And an options template for the probe's statistics (section 4: records exported and not
// sent, packets the flow log dropped). libfixbuf's GErrors become Results.
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

// The metering side's losses for the statistics record: packets the flow log dropped, with the
// times (ms since the epoch) the first and the last of those drops were seen; 0 when none.
struct IgnoredPackets {
  uint64_t packets = 0;
  uint64_t first_ms = 0;
  uint64_t last_ms = 0;
};

class IpfixExporter {
 public:
  // Template ids of the two record layouts.
  static constexpr uint16_t kTemplateV4 = 256;
  static constexpr uint16_t kTemplateV6 = 257;
  // The statistics options template: scope observationDomainId; exportedFlowRecordTotalCount,
  // notSentFlowTotalCount (4.2, 4.4), ignoredPacketTotalCount and the times of the first and
  // last ignored packet as flowStart/EndMilliseconds (4.3).
  static constexpr uint16_t kTemplateStatistics = 258;
  // The slices' names as an options template: scope observationDomainId, then ingressVRFID and
  // VRFname in a fixed 32 bytes (names are 1..31 characters; NUL-padded). nfdump's nfcapd keeps
  // these (not IE 236 of data records) and shows them as %ivrfnam.
  static constexpr uint16_t kTemplateSliceNames = 259;
  static constexpr size_t kSliceNameBytes = 32;

  // Allocates the session and the exporter (libfixbuf connects at the first message) and sends
  // the templates: over TCP a collector that refuses the connection fails this. `names` give
  // each record's VRFname.
  static netd::Result<std::unique_ptr<IpfixExporter>> open(const Collector& collector,
                                                           uint32_t observation_domain, SliceNames names = {});
  ~IpfixExporter();
  IpfixExporter(const IpfixExporter&) = delete;
  IpfixExporter& operator=(const IpfixExporter&) = delete;

  // The records, in as few messages as fit, sent now. On a failure the records of the failed
  // message are counted lost and the error returned; the exporter goes on with the next call.
  netd::Status send(std::span<const FlowRecord> records);
  // The templates again, each time followed by one slice-names record per named slice (after
  // open(), the names go with the first records instead): a UDP collector that restarted learns
  // them this way (RFC 7011 10.3.6). Over TCP they go at the
  // start of each connection by themselves (a failed send closes it; the next send opens a new
  // one with the templates first).
  netd::Status send_templates();
  // One statistics record: what this exporter has sent and lost so far, and `ignored`.
  netd::Status send_statistics(const IgnoredPackets& ignored);
  const ExportStats& stats() const { return stats_; }
  // The names for the records from now on, and for the names' records with the next templates.
  void set_names(SliceNames names) { names_ = std::move(names); }

 private:
  struct Handles;
  IpfixExporter(std::unique_ptr<Handles> handles, SliceNames names, uint32_t domain, Transport transport);
  // One flow record (its VRFname from names_); a failed send of a full message on the way goes
  // to *send_failure, as for append_raw.
  netd::Status append(const FlowRecord& record, netd::Status* send_failure);
  // One record of template `tid` into the message being built. A full message is sent first and
  // the record goes into the next one: the record's own failure is returned, a failed send of
  // the full message (its records counted lost by emit) goes to *send_failure if that holds none.
  netd::Status append_raw(uint16_t tid, uint8_t* bytes, size_t size, const char* what, netd::Status* send_failure);
  netd::Status use_template(uint16_t tid);
  netd::Status emit(uint64_t records_in_message);
  // The templates in a message of their own (libfixbuf's manual mode wants one); the names are
  // then due.
  netd::Status export_templates();
  // Over TCP after a failed send: the templates first on the new connection.
  netd::Status templates_if_due();
  // The slice-names records, into the message being built, when templates went out since.
  netd::Status append_names_if_due();

  std::unique_ptr<Handles> handles_;
  SliceNames names_;
  uint32_t domain_;
  Transport transport_;
  bool templates_due_ = false;
  bool names_due_ = false;
  ExportStats stats_;
  uint16_t current_template_ = 0;
  uint64_t pending_ = 0;  // records appended since the last emit
};

}  // namespace flowmon
