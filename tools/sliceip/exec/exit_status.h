// sliceip exec's exit status, as env(1) and timeout(1) have it: the program's own status; 125
// when sliceip fails before the program runs; 126 the program cannot be executed; 127 not found.
#pragma once

namespace sliceip::exec {

inline constexpr int kExitOwnFailure = 125;
inline constexpr int kExitCannotExecute = 126;
inline constexpr int kExitNotFound = 127;

// execvp's errno → 127 (ENOENT, ENOTDIR: not found) or 126 (found but not executable).
int exit_code_for_exec_errno(int err);

// Ends sliceip the way the program ended (a wait status): exit with its code, or die of the
// same signal (default disposition, unblocked, no core file), falling back to 128+N if the
// signal does not kill.
[[noreturn]] void exit_like(int wait_status);

}  // namespace sliceip::exec
