// MessageReader (lib/varlink/framing.h) fed a client's stream in arbitrary pieces, with fds
// on some of them. Beyond memory safety it checks what the reader promises:
//   - the messages it returns are exactly the stream's NUL-terminated pieces, in order;
//   - each carries exactly the fds of the pieces whose last byte fell inside it;
//   - it fails only for a message over 64 KiB or with more than 16 fds, and then for the
//     first such message;
//   - every fd it was given is closed once the reader and its messages are gone.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "lib/varlink/framing.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/stream_script.h"

namespace {

using netd::fuzz::check;
using netd::varlink::kMaxFdsPerMessage;
using netd::varlink::kMaxMessageBytes;

struct Outcome {
  std::vector<netd::varlink::Message> messages;
  bool failed = false;
  size_t pending_bytes = 0;
};

Outcome read_all(const std::vector<netd::fuzz::Send>& sends, std::vector<int>* created) {
  Outcome out;
  netd::varlink::MessageReader reader;
  for (const auto& send : sends) {
    std::vector<netd::UniqueFd> fds;
    for (size_t i = 0; i < send.fds; ++i) {
      int fd = netd::fuzz::make_passable_fd(created->size());
      check(fd >= 0, "out of fds: an earlier input leaked some");
      created->push_back(fd);
      fds.emplace_back(fd);
    }
    reader.feed(send.bytes, std::move(fds));
    for (;;) {
      auto next = reader.next();
      if (!next.ok()) {
        out.failed = true;
        return out;
      }
      if (!next->has_value()) break;
      out.messages.push_back(std::move(**next));
    }
  }
  out.pending_bytes = reader.pending_bytes();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto sends = netd::fuzz::decode_stream(data, size);

  // What the reader should make of it: the pieces, and the fds each piece gets.
  std::string stream;
  std::vector<size_t> fds_at;  // stream offset of the last byte of each send with fds, per fd
  for (const auto& send : sends) {
    stream += send.bytes;
    if (!send.bytes.empty())
      for (size_t i = 0; i < send.fds; ++i) fds_at.push_back(stream.size() - 1);
  }
  std::vector<std::string> pieces;
  std::vector<size_t> piece_fds;
  size_t start = 0;
  for (size_t end; (end = stream.find('\0', start)) != std::string::npos; start = end + 1)
    pieces.push_back(stream.substr(start, end - start));
  std::string tail = stream.substr(start);
  piece_fds.assign(pieces.size() + 1, 0);  // the last one: the unterminated tail
  size_t nuls_before = 0, scanned = 0;  // fds_at is in stream order: one pass
  for (size_t offset : fds_at) {
    for (; scanned < offset; ++scanned) nuls_before += stream[scanned] == '\0';
    ++piece_fds[nuls_before];
  }

  std::vector<int> created;
  {
    Outcome out = read_all(sends, &created);
    size_t n = out.messages.size();
    check(n <= pieces.size(), "more messages than NUL bytes");
    std::set<int> seen;
    for (size_t i = 0; i < n; ++i) {
      const auto& m = out.messages[i];
      check(m.json == pieces[i], "message " + std::to_string(i) + " differs from the stream");
      check(m.fds.size() == piece_fds[i], "message " + std::to_string(i) + " has " +
                                              std::to_string(m.fds.size()) + " fds, sent with it: " +
                                              std::to_string(piece_fds[i]));
      for (const auto& fd : m.fds) {
        check(std::find(created.begin(), created.end(), fd.get()) != created.end(), "an fd nobody sent");
        check(seen.insert(fd.get()).second, "one fd handed out twice");
      }
    }
    // Failing is right only for the first message over a cap; not failing means none was.
    const std::string& next = n < pieces.size() ? pieces[n] : tail;
    bool over_cap = next.size() > kMaxMessageBytes || piece_fds[n] > kMaxFdsPerMessage;
    if (out.failed) {
      check(over_cap, "refused message " + std::to_string(n) + " within the caps");
    } else {
      check(n == pieces.size(), "a complete message was not returned");
      check(!over_cap, "a tail over the caps was not refused");
      check(out.pending_bytes == tail.size(), "pending_bytes() is not the unterminated tail");
    }
  }
  for (int fd : created) check(fcntl(fd, F_GETFD) < 0 && errno == EBADF, "an fd was not closed");
  return 0;
}
