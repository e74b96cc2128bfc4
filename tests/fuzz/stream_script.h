// How the Varlink fuzz targets read their input: a byte stream as a client would send it,
// with a few control bytes saying where one sendmsg() ends and how many fds ride on it.
//
//   0x01 x k   a new send starts here and carries k fds (k consecutive 0x01 bytes, k <= 20:
//              more than the 16 a message may carry)
//   0x02       a new send starts here, without fds
//   0x03 n     n * 1024 spaces (JSON whitespace): reaches the 64 KiB message cap from a
//              small input
//   any other  itself (0x00 ends a message)
//
// The three control bytes are never valid raw in JSON text, so seeds stay plain Varlink
// messages: {"method":"org.varlink.service.GetInfo"}\0
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace netd::fuzz {

struct Send {
  std::string bytes;
  size_t fds = 0;
};

// After expanding 0x03: past the 64 KiB message cap, and small enough that a big input
// does not cost a fresh mmap (and its page faults) per buffer.
inline constexpr size_t kMaxStreamBytes = 80 * 1024;
inline constexpr size_t kMaxFdsPerSend = 20;
inline constexpr size_t kMaxFdsPerInput = 64;  // later 0x01 runs start sends without fds

// At least one Send, possibly empty. The expanded stream is cut at kMaxStreamBytes.
std::vector<Send> decode_stream(const uint8_t* data, size_t size);

// An fd to pass: an eventfd or a pipe end (alternately), close-on-exec. -1 when out of fds.
int make_passable_fd(size_t index);

}  // namespace netd::fuzz
