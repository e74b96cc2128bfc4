// Varlink framing: JSON objects terminated by a NUL byte on an AF_UNIX SOCK_STREAM socket.
// File descriptors ride as SCM_RIGHTS on the sendmsg() carrying a message's first byte
// (sd-varlink's convention); the reader attaches them to that message.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/core/result.h"
#include "lib/core/unique_fd.h"

namespace netd::varlink {

inline constexpr size_t kMaxMessageBytes = 64 * 1024;  // without the NUL
inline constexpr size_t kMaxFdsPerMessage = 16;

struct Message {
  std::string json;  // without the terminating NUL
  std::vector<UniqueFd> fds;
};

// Reassembles messages from a byte stream (and the fds that came with it).
// A message longer than kMaxMessageBytes, or more fds than kMaxFdsPerMessage on one
// message, is an error: the caller replies with an error and closes the connection.
class MessageReader {
 public:
  enum class ReadState { kData, kWouldBlock, kEof };

  // Whether read_from may block until the peer writes (a client waiting for its reply: one
  // recvmsg instead of poll + recvmsg) or never does (the server's event loop).
  enum class Wait { kNo, kYes };

  // One recvmsg(MSG_CMSG_CLOEXEC, plus MSG_DONTWAIT unless wait) from a socket into the
  // buffer. kWouldBlock also when the fd itself is non-blocking.
  Result<ReadState> read_from(int fd, Wait wait = Wait::kNo);
  // Appends bytes as if received (tests, and callers that read themselves).
  void feed(std::string_view bytes, std::vector<UniqueFd> fds = {});

  // The next complete message, nullopt when none is complete yet.
  Result<std::optional<Message>> next();
  // Bytes buffered that do not yet form a complete message.
  size_t pending_bytes() const { return buffer_.size() - consumed_; }

 private:
  struct PendingFds {
    size_t offset;  // stream offset of the last byte of the read that brought them
    std::vector<UniqueFd> fds;
  };
  std::string buffer_;
  size_t consumed_ = 0;           // bytes of buffer_ already returned as messages
  size_t stream_offset_ = 0;      // stream offset of buffer_[0]
  std::deque<PendingFds> fds_;
  bool fds_truncated_ = false;
};

// Serialises one message with its terminating NUL and optional fds. Blocks until all
// bytes are written (for blocking client sockets).
Status send_message(int fd, std::string_view json, std::span<const int> fds = {});

// Writes as much of data as the socket takes without blocking; fds go with the first byte.
// Returns bytes written (0 when the socket is full).
Result<size_t> send_some(int fd, std::string_view data, std::span<const int> fds);

}  // namespace netd::varlink
