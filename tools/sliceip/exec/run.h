// `sliceip exec`: asks netd what the slice may do, starts the program under the filter and
// supervises it. Ends the process (never returns): with the program's status, or 125/126/127.
#pragma once

#include <string>
#include <vector>

namespace sliceip::exec {

[[noreturn]] void run(const std::vector<std::string>& argv, const std::string& socket_option);

}  // namespace sliceip::exec
