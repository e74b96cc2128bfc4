// The audit line: one per request, written where the request is handled (lib/ never logs).
#pragma once

#include <cstdio>

#include "netd/server/server.h"

namespace netd::daemon {

// "audit uid=1001 pid=42 slice=alice method=io.netd.Routes.Add params={...} result=ok us=31"
std::string format_audit(const server::AuditRecord& record);

// Writes each line with one write(2) so lines from a busy daemon never interleave.
void write_audit(const server::AuditRecord& record, FILE* sink);

// A connection netd refused or closed itself:
// "audit uid=1001 pid=42 connection=closed reason=\"no complete request for 300s (idle_timeout)\"",
// with " count=N" when the line stands for N refusals of a flood.
std::string format_connection_audit(const server::ConnectionRecord& record);
void write_connection_audit(const server::ConnectionRecord& record, FILE* sink);

}  // namespace netd::daemon
