// netd's own lines on stderr (the journal under systemd): "netd: <text>\n", written with one
// write(2) so a line is never split by another writer's (a line is what tests and admins match:
// "netd: reloaded ...", "netd: reloading ..., policy kept: why"). Text is written as it is: a
// policy refusal may span lines, one per problem, and the names in it were validated before.
#pragma once

#include <cstdio>
#include <string_view>

namespace netd::daemon {

void log_line(std::string_view text);

// `line` (its newline included) on `sink` with one write(2): what log_line and the audit lines
// (audit.h, which carry no "netd: ") both write with.
void write_line(FILE* sink, std::string_view line);

}  // namespace netd::daemon
