// netd's own lines on stderr (the journal under systemd): "netd: <text>\n", written with one
// write(2) so a line is never split by another writer's (a line is what tests and admins match:
// "netd: reloaded ...", "netd: reloading ..., policy kept: why"). Text is written as it is: a
// policy refusal may span lines, one per problem, and the names in it were validated before.
#pragma once

#include <string_view>

namespace netd::daemon {

void log_line(std::string_view text);

}  // namespace netd::daemon
