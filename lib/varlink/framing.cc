#include "lib/varlink/framing.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace netd::varlink {

namespace {

// Room for kMaxFdsPerMessage fds plus one more, so that an excess is seen (MSG_CTRUNC).
constexpr size_t kControlBytes = CMSG_SPACE(sizeof(int) * (kMaxFdsPerMessage + 1));
constexpr size_t kReadChunk = 16 * 1024;

}  // namespace

Result<MessageReader::ReadState> MessageReader::read_from(int fd, Wait wait) {
  char data[kReadChunk];
  alignas(cmsghdr) char control[kControlBytes];
  iovec iov{data, sizeof data};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = recvmsg(fd, &msg, (wait == Wait::kYes ? 0 : MSG_DONTWAIT) | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadState::kWouldBlock;
    return errno_error("reading from socket");
  }
  std::vector<UniqueFd> fds;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int passed;
      std::memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof passed);
      fds.emplace_back(passed);
    }
  }
  // Truncated control data means fds were dropped by the kernel: the message cannot be trusted.
  if (msg.msg_flags & MSG_CTRUNC) fds_truncated_ = true;
  if (n == 0) return ReadState::kEof;
  feed(std::string_view(data, static_cast<size_t>(n)), std::move(fds));
  return ReadState::kData;
}

void MessageReader::feed(std::string_view bytes, std::vector<UniqueFd> fds) {
  // A unix stream read that returns fds ends with the skb that carried them (the kernel stops
  // there), and senders put fds on the sendmsg() of a message's first byte. So the fds belong
  // to the message holding the last byte of this read, not necessarily the first.
  if (!fds.empty() && !bytes.empty())
    fds_.push_back({stream_offset_ + buffer_.size() + bytes.size() - 1, std::move(fds)});
  buffer_.append(bytes);
}

Result<std::optional<Message>> MessageReader::next() {
  if (fds_truncated_) return make_error(EMSGSIZE, "more than 16 file descriptors sent with one message");
  size_t end = buffer_.find('\0', consumed_);
  if (end == std::string::npos) {
    if (pending_bytes() > kMaxMessageBytes)
      return make_error(EMSGSIZE, "message exceeds " + std::to_string(kMaxMessageBytes) + " bytes");
    // Fds already received for the unfinished message count now: a peer must not make us
    // hold descriptors by never finishing it.
    size_t pending_fds = 0;
    for (const auto& f : fds_)
      if (f.offset >= stream_offset_ + consumed_) pending_fds += f.fds.size();
    if (pending_fds > kMaxFdsPerMessage)
      return make_error(EMSGSIZE, "more than 16 file descriptors sent with one message");
    return std::optional<Message>();
  }
  if (end - consumed_ > kMaxMessageBytes)
    return make_error(EMSGSIZE, "message exceeds " + std::to_string(kMaxMessageBytes) + " bytes");

  Message message;
  message.json.assign(buffer_, consumed_, end - consumed_);
  size_t first = stream_offset_ + consumed_;
  size_t last = stream_offset_ + end;
  // Fds belong to the message whose byte range holds the byte they arrived with.
  while (!fds_.empty() && fds_.front().offset <= last) {
    if (fds_.front().offset >= first)
      for (auto& fd : fds_.front().fds) message.fds.push_back(std::move(fd));
    fds_.pop_front();
  }
  if (message.fds.size() > kMaxFdsPerMessage)
    return make_error(EMSGSIZE, "more than 16 file descriptors sent with one message");
  consumed_ = end + 1;
  // Compact once the consumed part dominates, keeping appends amortised O(1).
  if (consumed_ == buffer_.size() || consumed_ > kReadChunk) {
    buffer_.erase(0, consumed_);
    stream_offset_ += consumed_;
    consumed_ = 0;
  }
  return std::optional<Message>(std::move(message));
}

namespace {

// One sendmsg() of data with fds as SCM_RIGHTS (none when empty); EINTR retried.
// Returns bytes written, 0 when a non-blocking socket is full.
Result<size_t> send_with_fds(int fd, std::string_view data, std::span<const int> fds, int flags) {
  if (fds.size() > kMaxFdsPerMessage) return make_error(EINVAL, "more than 16 file descriptors");
  iovec iov{const_cast<char*>(data.data()), data.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t n;
  do {
    n = sendmsg(fd, &msg, flags | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return size_t{0};
    return errno_error("writing to socket");
  }
  return static_cast<size_t>(n);
}

}  // namespace

Result<size_t> send_some(int fd, std::string_view data, std::span<const int> fds) {
  return send_with_fds(fd, data, fds, MSG_DONTWAIT);
}

Status send_message(int fd, std::string_view json, std::span<const int> fds) {
  if (json.size() > kMaxMessageBytes)
    return make_error(EMSGSIZE, "message exceeds " + std::to_string(kMaxMessageBytes) + " bytes");
  std::string frame;
  frame.reserve(json.size() + 1);
  frame.append(json);
  frame.push_back('\0');
  std::string_view rest(frame);
  // The fds go with the first sendmsg (the message's first byte), never again.
  while (!rest.empty()) {
    NETD_ASSIGN_OR_RETURN(size_t sent, send_with_fds(fd, rest, fds, 0));
    if (sent == 0) return make_error(EAGAIN, "writing to socket: would block");
    fds = {};
    rest.remove_prefix(sent);
  }
  return ok_status();
}

}  // namespace netd::varlink
