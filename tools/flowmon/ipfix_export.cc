#include "tools/flowmon/ipfix_export.h"

#include <fixbuf/public.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace flowmon {

namespace {

// The records as libfixbuf's internal templates describe them: fields in template order with
// no gaps (libfixbuf copies by offset), integers in host order, IPv6 addresses as bytes, a
// variable-length element as an fbVarfield_t (length and pointer; libfixbuf copies the bytes
// into the message at fBufAppend, so they need to live only that long).
struct __attribute__((packed)) RecordTimes {
  uint64_t start_ms, end_ms, packets, octets;
};
struct __attribute__((packed)) RecordTail {
  uint32_t vrf;
  uint16_t sport, dport, tcp_flags;
  uint8_t protocol, direction;
  fbVarfield_t vrf_name;
};
struct __attribute__((packed)) RecordV4 {
  RecordTimes times;
  uint32_t src, dst;
  RecordTail tail;
};
struct __attribute__((packed)) RecordV6 {
  RecordTimes times;
  uint8_t src[16], dst[16];
  RecordTail tail;
};

constexpr uint32_t kV4 = 1, kV6 = 2;  // spec flags: which template a field belongs to

char* ie(const char* name) { return const_cast<char*>(name); }  // libfixbuf's specs take char*

fbInfoElementSpec_t kSpec[] = {
    {ie("flowStartMilliseconds"), 8, 0},
    {ie("flowEndMilliseconds"), 8, 0},
    {ie("packetDeltaCount"), 8, 0},
    {ie("octetDeltaCount"), 8, 0},
    {ie("sourceIPv4Address"), 4, kV4},
    {ie("destinationIPv4Address"), 4, kV4},
    {ie("sourceIPv6Address"), 16, kV6},
    {ie("destinationIPv6Address"), 16, kV6},
    {ie("ingressVRFID"), 4, 0},  // the slice id
    {ie("sourceTransportPort"), 2, 0},
    {ie("destinationTransportPort"), 2, 0},
    {ie("tcpControlBits"), 2, 0},
    {ie("protocolIdentifier"), 1, 0},
    {ie("flowDirection"), 1, 0},  // 0 arrived on the uplink, 1 left by it
    // Last, so that what comes before is laid out as it was without it. libfixbuf 2.4's IANA
    // model has VRFname (IE 236, string); open() checks that it does.
    {ie("VRFname"), FB_IE_VARLEN, 0},  // the slice's name
    FB_IESPEC_NULL,
};

// The statistics record (RFC 7011 section 4), laid out as kStatisticsSpec.
struct __attribute__((packed)) StatisticsRecord {
  uint32_t domain;
  uint64_t exported, not_sent, ignored, first_ignored_ms, last_ignored_ms;
};

struct __attribute__((packed)) SliceNameRecord {
  uint32_t domain;
  uint32_t vrf;
  char name[IpfixExporter::kSliceNameBytes];
};

// The scope is the observation domain, not the VRF id: nfdump 1.7 reads ingressVRFID and
// VRFname only among an options template's non-scope fields.
fbInfoElementSpec_t kSliceNamesSpec[] = {
    {ie("observationDomainId"), 4, 0},  // the scope
    {ie("ingressVRFID"), 4, 0},          // the slice id
    {ie("VRFname"), IpfixExporter::kSliceNameBytes, 0},
    FB_IESPEC_NULL,
};

fbInfoElementSpec_t kStatisticsSpec[] = {
    {ie("observationDomainId"), 4, 0},  // the scope
    {ie("exportedFlowRecordTotalCount"), 8, 0},
    {ie("notSentFlowTotalCount"), 8, 0},
    {ie("ignoredPacketTotalCount"), 8, 0},  // dropped by the flow log (kernel overruns)
    {ie("flowStartMilliseconds"), 8, 0},    // when the first of them was seen missing
    {ie("flowEndMilliseconds"), 8, 0},      // and the last
    FB_IESPEC_NULL,
};

// A GError owned here; its message becomes the Error's.
struct GErrorBox {
  GError* error = nullptr;
  ~GErrorBox() { g_clear_error(&error); }
  // libfixbuf's "the message is full" (in manual mode also "templates need a message of their own").
  bool full() const { return error != nullptr && g_error_matches(error, FB_ERROR_DOMAIN, FB_ERROR_EOM); }
  netd::Error to_error(const std::string& what) const {
    return netd::make_error(full() ? EMSGSIZE : EIO, what + ": " + (error != nullptr ? error->message : "failed"));
  }
};

// libfixbuf reports a failed UDP send (the collector's port unreachable) as a glib warning
// on stderr and returns success; only the first in the process, later ones are dropped
// silently. Caught here for the duration of one call, so that message becomes an Error of
// ours (and the records count as lost) instead of glib's line on stderr.
class WarningCapture {
 public:
  WarningCapture()
      : id_(g_log_set_handler(nullptr, static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE),
                              &WarningCapture::handle, this)) {}
  ~WarningCapture() { g_log_remove_handler(nullptr, id_); }
  WarningCapture(const WarningCapture&) = delete;
  WarningCapture& operator=(const WarningCapture&) = delete;
  const std::string& text() const { return text_; }

 private:
  static void handle(const gchar*, GLogLevelFlags, const gchar* message, gpointer self) {
    auto* capture = static_cast<WarningCapture*>(self);
    if (!capture->text_.empty()) capture->text_ += "; ";
    capture->text_ += message;
  }
  guint id_;
  std::string text_;
};

uint32_t ipv4_host_order(const netd::IpAddress& a) {
  const uint8_t* b = a.bytes();
  return static_cast<uint32_t>(b[0]) << 24 | static_cast<uint32_t>(b[1]) << 16 | static_cast<uint32_t>(b[2]) << 8 | b[3];
}

RecordTimes times_of(const FlowCounts& c) { return {c.first_ms, c.last_ms, c.packets, c.octets}; }

// `name` must outlive the fBufAppend of the record.
RecordTail tail_of(const FlowRecord& r, std::string_view name) {
  fbVarfield_t vrf_name{name.size(), reinterpret_cast<uint8_t*>(const_cast<char*>(name.data()))};
  return {r.id.slice,   r.id.sport, r.id.dport, r.counts.tcp_flags, r.id.protocol, static_cast<uint8_t>(r.id.direction),
          vrf_name};
}

}  // namespace

struct IpfixExporter::Handles {
  fbInfoModel_t* model = nullptr;
  fbSession_t* session = nullptr;  // owned by buf once it exists
  fBuf_t* buf = nullptr;           // owns the session and the exporter
  ~Handles() {
    if (buf != nullptr) {
      fBufFree(buf);
    } else if (session != nullptr) {
      fbSessionFree(session);
    }
    if (model != nullptr) fbInfoModelFree(model);
  }
};

IpfixExporter::IpfixExporter(std::unique_ptr<Handles> handles, SliceNames names, uint32_t domain,
                             Transport transport)
    : handles_(std::move(handles)), names_(std::move(names)), domain_(domain), transport_(transport) {}
IpfixExporter::~IpfixExporter() = default;

netd::Result<std::unique_ptr<IpfixExporter>> IpfixExporter::open(const Collector& collector,
                                                                 uint32_t observation_domain, SliceNames names) {
  auto h = std::make_unique<Handles>();
  h->model = fbInfoModelAlloc();
  // A libfixbuf without VRFname would fail the template with a less telling "no such element".
  if (fbInfoModelGetElementByName(h->model, "VRFname") == nullptr)
    return netd::make_error(ENOSYS, "this libfixbuf's information model has no VRFname (IE 236)");
  h->session = fbSessionAlloc(h->model);
  fbSessionSetDomain(h->session, observation_domain);
  struct Layout {
    uint16_t tid;
    fbInfoElementSpec_t* spec;
    uint32_t flags;
    uint16_t scope_fields;  // 0: a template for data records, else an options template
  };
  for (const Layout& layout : {Layout{kTemplateV4, kSpec, kV4, 0}, Layout{kTemplateV6, kSpec, kV6, 0},
                               Layout{kTemplateStatistics, kStatisticsSpec, 0, 1},
                               Layout{kTemplateSliceNames, kSliceNamesSpec, 0, 1}}) {
    uint16_t tid = layout.tid;
    GErrorBox err;
    fbTemplate_t* tmpl = fbTemplateAlloc(h->model);
    if (!fbTemplateAppendSpecArray(tmpl, layout.spec, layout.flags, &err.error)) {
      fbTemplateFreeUnused(tmpl);
      return err.to_error("building the IPFIX template");
    }
    if (layout.scope_fields != 0) fbTemplateSetOptionsScope(tmpl, layout.scope_fields);
    // One layout inside and on the wire: the same template as internal and external.
    if (fbSessionAddTemplate(h->session, TRUE, tid, tmpl, &err.error) == 0) {
      fbTemplateFreeUnused(tmpl);
      return err.to_error("adding the IPFIX template");
    }
    if (fbSessionAddTemplate(h->session, FALSE, tid, tmpl, &err.error) == 0)
      return err.to_error("adding the IPFIX template");
  }
  std::string host = collector.host;
  std::string port = std::to_string(collector.port);
  fbConnSpec_t spec{};
  spec.transport = collector.transport == Transport::kTcp ? FB_TCP : FB_UDP;
  spec.host = host.data();
  spec.svc = port.data();
  fbExporter_t* exporter = fbExporterAllocNet(&spec);  // copies spec; connects at the first message
  h->buf = fBufAllocForExport(h->session, exporter);
  // Manual mode: a full message is our EMSGSIZE, so every record is counted sent or lost.
  fBufSetAutomaticMode(h->buf, FALSE);
  std::unique_ptr<IpfixExporter> self(
      new IpfixExporter(std::move(h), std::move(names), observation_domain, collector.transport));
  // The templates alone: over UDP a collector that is not there answers this first datagram with
  // a refusal that fails the next send, which should be one of records, reported as theirs.
  NETD_TRY(self->export_templates());
  return self;
}

netd::Status IpfixExporter::export_templates() {
  NETD_TRY(emit(pending_));  // the records so far go first: templates start a message of their own
  GErrorBox err;
  if (!fbSessionExportTemplates(handles_->session, &err.error)) {
    // In manual mode libfixbuf asks for a fresh message before a template set (FB_ERROR_EOM).
    netd::Error first = err.to_error("exporting the IPFIX templates");
    if (first.code != EMSGSIZE) return first;
    NETD_TRY(emit(0));
    g_clear_error(&err.error);
    if (!fbSessionExportTemplates(handles_->session, &err.error)) return err.to_error("exporting the IPFIX templates");
  }
  current_template_ = 0;  // a data set after them names its template again
  NETD_TRY(emit(0));
  templates_due_ = false;
  names_due_ = true;  // with the next records, or now from send_templates
  return netd::ok_status();
}

netd::Status IpfixExporter::send_templates() {
  NETD_TRY(export_templates());
  NETD_TRY(append_names_if_due());
  return emit(0);
}

netd::Status IpfixExporter::append_names_if_due() {
  if (!names_due_) return netd::ok_status();
  for (const auto& [id, name] : names_.all()) {
    SliceNameRecord r{domain_, id, {}};
    std::memcpy(r.name, name.data(), std::min(name.size(), sizeof r.name - 1));  // the policy allows 31
    netd::Status sent;
    NETD_TRY(append_raw(kTemplateSliceNames, reinterpret_cast<uint8_t*>(&r), sizeof r, "adding a slice name", &sent));
    NETD_TRY(std::move(sent));
  }
  names_due_ = false;
  return netd::ok_status();
}

netd::Status IpfixExporter::append_raw(uint16_t tid, uint8_t* bytes, size_t size, const char* what,
                                       netd::Status* send_failure) {
  NETD_TRY(use_template(tid));
  GErrorBox err;
  if (fBufAppend(handles_->buf, bytes, size, &err.error)) return netd::ok_status();
  if (!err.full()) return err.to_error(what);
  // The message is full (or holds templates): it goes first, and the record into the next one
  // whether or not that send worked (emit counted its records sent or lost).
  if (auto sent = emit(pending_); !sent.ok() && send_failure->ok()) *send_failure = std::move(sent).error();
  NETD_TRY(use_template(tid));
  g_clear_error(&err.error);
  if (!fBufAppend(handles_->buf, bytes, size, &err.error)) return err.to_error(what);
  return netd::ok_status();
}

netd::Status IpfixExporter::templates_if_due() {
  if (!templates_due_) return netd::ok_status();
  return export_templates();
}

netd::Status IpfixExporter::send_statistics(const IgnoredPackets& ignored) {
  NETD_TRY(templates_if_due());
  NETD_TRY(append_names_if_due());
  // send() leaves nothing pending: the counts are of messages that went or failed.
  StatisticsRecord r{domain_, stats_.records, stats_.lost, ignored.packets, ignored.first_ms, ignored.last_ms};
  netd::Status sent;
  NETD_TRY(append_raw(kTemplateStatistics, reinterpret_cast<uint8_t*>(&r), sizeof r, "adding the IPFIX statistics",
                      &sent));
  NETD_TRY(std::move(sent));
  return emit(pending_);
}

netd::Status IpfixExporter::use_template(uint16_t tid) {
  if (tid == current_template_) return netd::ok_status();
  GErrorBox err;
  if (!fBufSetInternalTemplate(handles_->buf, tid, &err.error) || !fBufSetExportTemplate(handles_->buf, tid, &err.error))
    return err.to_error("choosing the IPFIX template");
  current_template_ = tid;
  return netd::ok_status();
}

netd::Status IpfixExporter::emit(uint64_t records_in_message) {
  pending_ = 0;
  GErrorBox err;
  WarningCapture warnings;
  if (!fBufEmit(handles_->buf, &err.error)) {
    stats_.lost += records_in_message;
    // Closed, so that the next message opens the socket again (over TCP a new connection, which
    // needs the templates before any record).
    fbExporterClose(fBufGetExporter(handles_->buf));
    if (transport_ == Transport::kTcp) templates_due_ = true;
    return err.to_error("sending to the IPFIX collector");
  }
  if (!warnings.text().empty()) {  // the socket stays connected: later messages may arrive
    stats_.lost += records_in_message;
    return netd::make_error(EIO, "sending to the IPFIX collector: " + warnings.text());
  }
  stats_.records += records_in_message;
  return netd::ok_status();
}

netd::Status IpfixExporter::append(const FlowRecord& record, netd::Status* send_failure) {
  const char* what = "adding an IPFIX record";
  if (record.id.src.is_v4()) {
    RecordV4 r{times_of(record.counts), ipv4_host_order(record.id.src), ipv4_host_order(record.id.dst),
               tail_of(record, names_.name_of(record.id.slice))};
    NETD_TRY(append_raw(kTemplateV4, reinterpret_cast<uint8_t*>(&r), sizeof r, what, send_failure));
  } else {
    RecordV6 r{};
    r.times = times_of(record.counts);
    std::memcpy(r.src, record.id.src.bytes(), 16);
    std::memcpy(r.dst, record.id.dst.bytes(), 16);
    r.tail = tail_of(record, names_.name_of(record.id.slice));
    NETD_TRY(append_raw(kTemplateV6, reinterpret_cast<uint8_t*>(&r), sizeof r, what, send_failure));
  }
  ++pending_;
  return netd::ok_status();
}

netd::Status IpfixExporter::send(std::span<const FlowRecord> records) {
  if (records.empty()) return netd::ok_status();
  auto ready = templates_if_due();
  if (ready.ok()) ready = append_names_if_due();
  if (!ready.ok()) {
    stats_.lost += records.size();  // no connection: nothing of these can go
    return ready;
  }
  netd::Status result;
  for (const FlowRecord& record : records) {
    if (auto appended = append(record, &result); !appended.ok()) {
      ++stats_.lost;
      if (result.ok()) result = std::move(appended).error();
    }
  }
  if (pending_ > 0)
    if (auto sent = emit(pending_); !sent.ok() && result.ok()) result = std::move(sent).error();
  return result;
}

}  // namespace flowmon
